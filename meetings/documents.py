"""The official PDFs of a meeting in the Party document format (design §7), rendered with WeasyPrint.

Each document is a template under ``templates/documents/`` filled from the same context builder as
its web page (``selectors.minutes_context``), so the page and the PDF cannot disagree.
"""

from django.utils import timezone

from cells.models import Organisation
from cells.pdf import render_pdf  # noqa: F401 - the documents' renderer, re-exported for scoring and reports
from cells.selectors import document_signer

from . import selectors
from .formatting import clock, party_day, place_and_date
from .models import Meeting


def minutes_pdf(meeting: Meeting) -> bytes:
    return render_pdf("documents/minutes.html", selectors.minutes_context(meeting))


def _signer(organisation: Organisation, day) -> dict:
    """The signature block's title and name for the organisation's bí thư (or phó bí thư) on ``day``."""
    title, member = document_signer(organisation=organisation, on=day)
    return {"signer_title": title, "signer": member}


def notice_context(meeting: Meeting) -> dict:
    context = selectors.minutes_context(meeting)
    sent = timezone.localdate(meeting.notice_sent_at) if meeting.notice_sent_at else timezone.localdate()
    return {
        **context, "date_line": place_and_date(sent), "start_clock": clock(meeting.planned_start),
        "party_day": party_day(timezone.localdate(meeting.planned_start)), "documents": list(meeting.documents.all()),
        "notice_reference": meeting.notice_reference,
        "notice_recipients": ["Đảng viên trong chi bộ", "Đảng ủy viên phụ trách", "Lưu chi bộ"],
        **_signer(meeting.organisation, sent),
    }


def notice_pdf(meeting: Meeting) -> bytes:
    return render_pdf("documents/notice.html", notice_context(meeting))


def resolution_context(meeting: Meeting) -> dict:
    context = selectors.minutes_context(meeting)
    resolution = context["resolution"]
    day = timezone.localdate(resolution.adopted_at) if resolution and resolution.adopted_at else context["day"].date()
    return {
        **context,
        "resolution_recipients": [context["upper_name"] or "Cấp ủy cấp trên", "Đảng viên trong chi bộ", "Lưu chi bộ"],
        **_signer(meeting.organisation, day),
    }


def resolution_pdf(meeting: Meeting) -> bytes:
    return render_pdf("documents/resolution.html", resolution_context(meeting))


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
