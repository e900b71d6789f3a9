"""Compact the meetings table after the backfill of 0004 (PostgreSQL only): VACUUM FULL ANALYZE.

The backfill rewrote every meeting row, which leaves the table twice its size: a plain VACUUM frees
the old row versions but keeps the pages, and every dashboard query that scans the meetings would
read twice as many pages until new rows fill them. VACUUM FULL writes the table anew (an exclusive
lock for that time: about a second for 300,000 meetings) and ANALYZE gives the planner statistics
of the new columns. VACUUM cannot run inside a transaction, hence a migration of its own, not atomic.
"""

from django.db import migrations


def vacuum(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor != "postgresql" or not connection.get_autocommit():
        return  # inside a transaction (a test run, an outer atomic block): leave it to autovacuum
    table = connection.ops.quote_name(apps.get_model("meetings", "Meeting")._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"VACUUM (FULL, ANALYZE) {table}")


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("meetings", "0004_meeting_attendance_counts"),
    ]

    operations = [migrations.RunPython(vacuum, migrations.RunPython.noop, elidable=True)]
