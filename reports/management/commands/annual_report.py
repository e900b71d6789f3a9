"""python manage.py annual_report --year 2026 [--organisation ID] --output DIR"""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from cells.models import Organisation
from reports import services


class Command(BaseCommand):
    help = "Build the annual targets report (PDF in the Party format and XLSX) of the Khối or one organisation."

    def add_arguments(self, parser):
        parser.add_argument("--year", type=int, required=True)
        parser.add_argument("--organisation", type=int, help="Organisation id (default: the Khối).")
        parser.add_argument("--output", required=True, help="Directory to write the files to.")

    def handle(self, *args, year, organisation, output, **options):
        if organisation:
            scope = Organisation.objects.filter(pk=organisation).first()
            if scope is None:
                raise CommandError(f"organisation {organisation} does not exist")
        else:
            scope = Organisation.objects.filter(kind=Organisation.Kind.KHOI).order_by("path").first()
            if scope is None:
                raise CommandError("there is no Khối organisation")
        directory = Path(output)
        directory.mkdir(parents=True, exist_ok=True)
        pdf, xlsx = services.annual_report_files(scope=scope, year=year)
        stem = f"bao-cao-chi-tieu-{year}-{scope.pk}"
        (directory / f"{stem}.pdf").write_bytes(pdf)
        (directory / f"{stem}.xlsx").write_bytes(xlsx)
        self.stdout.write(f"{directory / stem}.pdf\n{directory / stem}.xlsx")
