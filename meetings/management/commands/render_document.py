"""Render an official document to a PDF file.

python manage.py render_document minutes 12 --output bien-ban.pdf
python manage.py render_document minutes-book 5:2026 --output so-bien-ban-2026.pdf
"""

import time

from django.core.management.base import BaseCommand, CommandError

from cells.models import Organisation
from meetings import documents
from meetings.models import Meeting, Resolution

KINDS = ("minutes", "notice", "resolution", "minutes-book")


class Command(BaseCommand):
    help = "Render minutes, a notice, a resolution/conclusion or a cell's yearly minutes book to PDF."

    def add_arguments(self, parser):
        parser.add_argument("kind", choices=KINDS)
        parser.add_argument("target", help="meeting id, or cell-id:year for minutes-book")
        parser.add_argument("--output", "-o", required=True)

    def handle(self, *args, kind, target, output, **options):
        started = time.perf_counter()
        if kind == "minutes-book":
            try:
                cell_id, year = (int(part) for part in target.split(":"))
                cell = Organisation.objects.get(pk=cell_id)
            except (ValueError, Organisation.DoesNotExist):
                raise CommandError("minutes-book needs an existing cell id and a year: CELL-ID:YEAR") from None
            pdf = documents.minutes_book_pdf(cell, year)
        else:
            try:
                meeting = Meeting.objects.select_related("organisation").get(pk=int(target))
            except (ValueError, Meeting.DoesNotExist):
                raise CommandError(f"no meeting with id {target!r}") from None
            if kind == "resolution" and not Resolution.objects.filter(meeting=meeting).exists():
                raise CommandError("this meeting has no conclusion or resolution yet")
            render = {
                "minutes": documents.minutes_pdf,
                "notice": documents.notice_pdf,
                "resolution": documents.resolution_pdf,
            }[kind]
            pdf = render(meeting)
        with open(output, "wb") as handle:
            handle.write(pdf)
        elapsed = time.perf_counter() - started
        self.stdout.write(f"{output}: {len(pdf)} bytes in {elapsed:.2f} s")
