"""The official PDFs of a meeting in the Party document format (design §7), rendered with WeasyPrint.

Each document is a template under ``templates/documents/`` filled from the same context builder as
its web page (``selectors.minutes_context``), so the page and the PDF cannot disagree.
"""

import logging

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone

from cells.models import Organisation

from . import selectors
from .formatting import clock, party_day, place_and_date
from .models import Meeting

# WeasyPrint logs every layout step at INFO; keep the console for real problems.
logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)


def _font_faces() -> str:
    fonts = settings.BASE_DIR / "static" / "fonts"
    faces = []
    for style, weight, name in [("normal", 400, "Regular"), ("normal", 700, "Bold"),
                                ("italic", 400, "Italic"), ("italic", 700, "BoldItalic")]:
        path = (fonts / f"LiberationSerif-{name}.ttf").as_uri()
        faces.append(f'@font-face {{ font-family: "Liberation Serif"; font-style: {style}; font-weight: {weight}; '
                     f'src: url("{path}"); }}')
    return "\n".join(faces)


def render_pdf(template_name: str, context: dict) -> bytes:
    from weasyprint import HTML
    from weasyprint.text.fonts import FontConfiguration

    html = render_to_string(template_name, {**context, "font_faces": _font_faces()})
    font_config = FontConfiguration()
    return HTML(string=html, base_url=str(settings.BASE_DIR)).write_pdf(font_config=font_config)


def minutes_pdf(meeting: Meeting) -> bytes:
    return render_pdf("documents/minutes.html", selectors.minutes_context(meeting))


def notice_pdf(meeting: Meeting) -> bytes:
    context = selectors.minutes_context(meeting)
    sent = timezone.localdate(meeting.notice_sent_at) if meeting.notice_sent_at else timezone.localdate()
    return render_pdf("documents/notice.html", {
        **context, "date_line": place_and_date(sent), "start_clock": clock(meeting.planned_start),
        "party_day": party_day(timezone.localdate(meeting.planned_start)), "documents": list(meeting.documents.all()),
    })


def resolution_pdf(meeting: Meeting) -> bytes:
    return render_pdf("documents/resolution.html", selectors.minutes_context(meeting))


def minutes_book_pdf(cell: Organisation, year: int) -> bytes:
    """The year's adopted minutes of a cell, one after another, with a table of contents."""
    meetings = list(
        Meeting.objects.filter(organisation=cell, state=Meeting.State.MINUTES_ADOPTED, actual_start__year=year)
        .order_by("actual_start", "pk")
    )
    entries = [selectors.minutes_context(meeting) for meeting in meetings]
    return render_pdf("documents/minutes_book.html", {
        "cell": cell, "year": year, "entries": entries,
        "upper_name": cell.parent.name if cell.parent else "", "issuer_name": cell.name,
        "date_line": place_and_date(timezone.localdate()),
    })
