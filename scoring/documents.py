"""The score sheet PDF (phiếu chấm điểm) in the Party document format, from the page's own context."""

from lib.documents import render_pdf

from . import selectors
from .models import MeetingScore


def score_sheet_pdf(score: MeetingScore) -> bytes:
    return render_pdf("documents/score_sheet.html", selectors.score_sheet_context(score))
