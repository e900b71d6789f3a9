"""The kinds of tracked report: one entry each, from which a ReportRun is asked for, built and downloaded.

A kind is its code (``ReportRun.kind``), its label, the form of its parameters (on the runs page; its
cleaned data become ``ReportRun.params``), its builder (the files of a run) and the pattern of the
names of its files. The task, the runs page, the status row and the download dispatch through
``kind_of(run.kind)``; adding a report is one more ``register(ReportKind(...))``.
"""

import datetime
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django import forms as django_forms
from django.http import Http404
from django.utils.translation import gettext_lazy as _

from . import forms

if TYPE_CHECKING:
    from django.utils.functional import _StrPromise

ANNUAL_TARGETS = "annual_targets"

# The files a builder may return, by the ``file_kind`` of the download URL.
FILE_KINDS = ("pdf", "xlsx")


@dataclass(frozen=True)
class ReportKind:
    """One kind of tracked report.

    ``build(scope=, params=, today=, progress=)`` returns the run's files as ``{"pdf": bytes, "xlsx": bytes}``
    (either may be missing); ``progress(percent)`` reports how far it is and raises when the run was taken
    over. ``file_name`` and ``stored_name`` are ``str.format`` patterns over the params, ``organisation`` (its
    id) and ``ext``: the name of a download, and the stem of the stored file.
    """

    code: str
    label: "str | _StrPromise"
    form: type[django_forms.Form]
    build: Callable[..., dict[str, bytes]]
    file_name: str
    stored_name: str
    short_label: "str | _StrPromise" = ""  # the page title, when shorter than the label

    @property
    def title(self) -> "str | _StrPromise":
        return self.short_label or self.label

    def params(self, cleaned_data: dict) -> dict:
        """The run's params from its form (JSON: the form's values as they are)."""
        return dict(cleaned_data)

    def download_name(self, run, file_kind: str) -> str:
        return self.file_name.format(**run.params, organisation=run.organisation_id, ext=file_kind)

    def stored_stem(self, params: dict) -> str:
        return self.stored_name.format(**params)


_KINDS: dict[str, ReportKind] = {}


def register(kind: ReportKind) -> ReportKind:
    _KINDS[kind.code] = kind
    return kind


def kind_of(code: str) -> ReportKind:
    """The kind of a run or of a URL; 404 for a code no entry has."""
    try:
        return _KINDS[code]
    except KeyError:
        raise Http404 from None


def all_kinds() -> list[ReportKind]:
    return list(_KINDS.values())


def choices() -> "list[tuple[str, str | _StrPromise]]":
    """``ReportRun.kind``'s choices (a callable: a new kind needs no migration)."""
    return [(kind.code, kind.label) for kind in _KINDS.values()]


def _build_annual(*, scope, params: dict, today: datetime.date | None = None, progress=None) -> dict[str, bytes]:
    from .services import annual_report_build

    return annual_report_build(scope=scope, year=int(params["year"]), today=today, progress=progress)


register(
    ReportKind(
        code=ANNUAL_TARGETS,
        label=_("Báo cáo kết quả thực hiện chỉ tiêu năm"),
        short_label=_("Báo cáo chỉ tiêu năm"),
        form=forms.ReportRunForm,
        build=_build_annual,
        file_name="bao-cao-chi-tieu-{year}-{organisation}.{ext}",
        stored_name="bao-cao-chi-tieu-{year}",
    )
)
