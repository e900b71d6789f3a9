"""Attendance counts stored on the meeting (issue #8): the fields, and one set-based backfill.

The backfill is one ``UPDATE … FROM (SELECT … GROUP BY meeting)`` over every attendance row, in
SQL that PostgreSQL and SQLite (3.33 and later) both run; the definitions are frozen here as they
are in ``meetings.services.attendance_counts_refresh`` when this migration was written.
"""

from django.db import migrations, models

BACKFILL = """
UPDATE {meeting}
SET attendance_present = counted.present, attendance_base = counted.base,
    attendance_unexcused = counted.unexcused
FROM (
    SELECT meeting_id,
           COUNT(CASE WHEN presence IN ('present', 'late') THEN 1 END) AS present,
           COUNT(CASE WHEN presence NOT IN ('exempt', 'attached_elsewhere') THEN 1 END) AS base,
           COUNT(CASE WHEN presence = 'absent_unexcused' THEN 1 END) AS unexcused
    FROM {attendance}
    GROUP BY meeting_id
) counted
WHERE {meeting}.id = counted.meeting_id
"""


def backfill(apps, schema_editor):
    connection = schema_editor.connection
    quote = connection.ops.quote_name
    meeting = quote(apps.get_model("meetings", "Meeting")._meta.db_table)
    attendance = quote(apps.get_model("meetings", "Attendance")._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(BACKFILL.format(meeting=meeting, attendance=attendance))


class Migration(migrations.Migration):

    dependencies = [
        ('meetings', '0003_reminder_rules_seed'),
    ]

    operations = [
        migrations.AddField(
            model_name='meeting',
            name='attendance_present',
            field=models.PositiveIntegerField(default=0, editable=False, verbose_name='Số đảng viên có mặt'),
        ),
        migrations.AddField(
            model_name='meeting',
            name='attendance_base',
            field=models.PositiveIntegerField(default=0, editable=False, verbose_name='Số đảng viên phải dự'),
        ),
        migrations.AddField(
            model_name='meeting',
            name='attendance_unexcused',
            field=models.PositiveIntegerField(default=0, editable=False, verbose_name='Số lượt vắng không lý do'),
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop),
    ]
