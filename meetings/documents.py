"""The official PDFs of a meeting in the Party document format (design §7), rendered with WeasyPrint.

Each document is a template under ``templates/documents/`` filled from the same context builder as
its web page (``selectors.minutes_context``), so the page and the PDF cannot disagree.
"""

from django.utils import timezone

from cells.models import Organisation
from cells.selectors import document_signer
from lib.documents import render_pdf
from lib.formatting import clock, party_day, place_and_date

from . import selectors
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
        **context,
        "date_line": place_and_date(sent),
        "start_clock": clock(meeting.planned_start),
        "party_day": party_day(timezone.localdate(meeting.planned_start)),
        "documents": list(meeting.documents.all()),
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
        Meeting.objects.filter(
            organisation=cell, state=Meeting.State.MINUTES_ADOPTED, actual_start__year=year
        ).order_by("actual_start", "pk")
    )
    entries = [selectors.minutes_context(meeting) for meeting in meetings]
    return render_pdf(
        "documents/minutes_book.html",
        {
            "cell": cell,
            "year": year,
            "entries": entries,
            "upper_name": cell.parent.name if cell.parent else "",
            "issuer_name": cell.name,
            "date_line": place_and_date(timezone.localdate()),
        },
    )


# --- filing and verification (issue #14) -------------------------------------------------------------

# Codes people type from paper: no 0/O, 1/I/L.
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"


def new_verification_code() -> str:
    """ "7KQ4-MX2P": 8 random characters (40 bits), unique among the filed documents."""
    import secrets

    from .models import FiledDocument

    while True:
        raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(8))
        code = f"{raw[:4]}-{raw[4:]}"
        if not FiledDocument.objects.filter(code=code).exists():
            return code


def verification_url(code: str) -> str:
    from django.conf import settings
    from django.urls import reverse

    return settings.SITE_URL + reverse("verify_document", args=[code])


def _verification_context(code: str) -> dict:
    import segno

    url = verification_url(code)
    return {
        "verification": {"code": code, "url": url, "qr": segno.make(url, error="m").svg_data_uri(scale=2, border=1)}
    }


def sha256_of(data: bytes) -> str:
    import hashlib

    return hashlib.sha256(data).hexdigest()


def file_adopted_documents(meeting: Meeting) -> list:
    """Render, sign (when a certificate is configured) and store the minutes and the conclusion as filed at
    adoption; each carries its verification code and QR code in the footer. Runs in the adoption's
    transaction: a document that cannot be filed stops the adoption."""
    from django.core.files.base import ContentFile

    from lib.documents import sign_pdf

    from .models import FiledDocument

    now = timezone.now()
    filed = []
    for kind, builder, template in (
        (FiledDocument.Kind.MINUTES, selectors.minutes_context, "documents/minutes.html"),
        (FiledDocument.Kind.RESOLUTION, resolution_context, "documents/resolution.html"),
    ):
        if kind == FiledDocument.Kind.RESOLUTION and not hasattr(meeting, "resolution"):
            continue
        if FiledDocument.objects.filter(meeting=meeting, kind=kind).exists():
            continue
        code = new_verification_code()
        context = {**builder(meeting), **_verification_context(code)}
        reference = meeting.minutes_reference if kind == FiledDocument.Kind.MINUTES else context["resolution"].reference
        pdf, subject = sign_pdf(render_pdf(template, context), reason=f"{FiledDocument.Kind(kind).label} {reference}")
        document = FiledDocument(
            meeting=meeting,
            kind=kind,
            reference=reference,
            code=code,
            sha256=sha256_of(pdf),
            filed_at=now,
            signed=bool(subject),
            signer_subject=subject,
        )
        document.file.save(f"{code}.pdf", ContentFile(pdf), save=False)
        document.save()
        filed.append(document)
    return filed


def confidential_copy(document, *, reader: str, at) -> bytes:
    """The confidential ``document`` as ``reader`` sees it at ``at``: every page stamped with their name and
    the time (dd/mm/yyyy HH:MM, local), server-side, so a copy passed on names who opened it."""
    from django.utils.translation import gettext as _

    from lib.documents import watermark_pdf
    from lib.formatting import moment_text

    with document.file.open("rb") as handle:
        data = handle.read()
    text = _("Tài liệu mật — Người xem: %(name)s — %(time)s") % {"name": reader, "time": moment_text(at)}
    return watermark_pdf(data, text)
