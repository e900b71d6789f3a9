"""python manage.py rollups_rebuild [--check]

Rebuild every monthly rollup (reports.rollups) from the meetings, in one transaction; with ``--check``,
compare them with a fresh count first and repair and report only what differs (the nightly check).
"""

import time

from django.core.management.base import BaseCommand

from reports import rollups


class Command(BaseCommand):
    help = "Rebuild the monthly rollups of the dashboards from the meetings (or, with --check, repair drift)."

    def add_arguments(self, parser):
        parser.add_argument("--check", action="store_true", help="compare and repair what differs, and report it")

    def handle(self, *args, check=False, **options):
        started = time.perf_counter()
        if check:
            drift = rollups.verify_and_report()
            self.stdout.write(
                f"{drift.checked} cell-months checked, {drift.count} repaired in {time.perf_counter() - started:.1f} s"
            )
            return
        rows = rollups.rebuild_all()
        self.stdout.write(f"{rows} cell-months rebuilt in {time.perf_counter() - started:.1f} s")
