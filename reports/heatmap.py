"""The heat map of regular meetings and the distribution of meeting quality."""

import datetime
from typing import Any

from django.db.models import (
    Count,
    Value,
)
from django.db.models.functions import Coalesce, NullIf
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cells.models import (
    PATH_STEP_WIDTH,
    Organisation,
)
from lib import formatting
from meetings import indicators
from meetings.models import Meeting

from . import rollups
from .counting import GOOD_MEETING_LEVELS, QUALITY_LEVELS, SCORED_KINDS, UNSCORED, _group, _held, _of_cells_in, cells_in
from .figures import current_month_counts, group_rows
from .periods import Period, month_in_progress

# The heat map's statuses (meetings.indicators.month_status), their words and their marks.
MONTH_STATUS_NAMES = {
    "held": gettext_lazy("Đã sinh hoạt"),
    "planned": gettext_lazy("Đã lên kế hoạch"),
    "draft": gettext_lazy("Có dự thảo, chưa thông báo"),
    "unplanned": gettext_lazy("Chưa lên kế hoạch (còn hạn)"),
    "late": gettext_lazy("Quá hạn lập kế hoạch"),
    "missing": gettext_lazy("Không sinh hoạt"),
    "future": "",
}
MONTH_STATUS_MARKS = {"planned": "○", "draft": "◌", "unplanned": "…", "late": "!", "missing": "✗", "future": ""}


def heat_map(*, scope: Organisation, period: Period, today: datetime.date | None = None) -> dict:
    """Cells × months: the regular meeting of each month, its state and its official quality level.

    Two queries: the cells, and the regular meetings of the period with their level. Each slot's
    status is meetings.indicators.month_status on ``today``.
    """
    today = today or timezone.localdate()
    cells = list(cells_in(scope, period).select_related("parent").order_by("path"))
    meetings = (
        Meeting.objects.filter(
            organisation__in=cells_in(scope, period),
            kind__in=Meeting.REGULAR_KINDS,
            period_month__gte=period.start,
            period_month__lte=period.end,
        )
        .exclude(state=Meeting.State.CANCELLED)
        .order_by()
        .values(
            "pk",
            "organisation_id",
            "period_month",
            "state",
            "notice_sent_at",
            "actual_start",
            "planned_start",
            level=Coalesce(NullIf("score__official_level", Value("")), Value(UNSCORED)),
        )
    )
    by_cell: dict[tuple, Any] = {(m["organisation_id"], m["period_month"]): m for m in meetings}
    names = dict(QUALITY_LEVELS)
    rows = []
    for cell in cells:
        slots = []
        for month in period.months:
            meeting = by_cell.get((cell.pk, month))
            status = indicators.month_status(month=month, today=today, meeting=meeting)
            slot = {
                "status": status,
                "month": month,
                "unit": indicators.MONTH_STATUS_UNIT[status],
                "title": str(MONTH_STATUS_NAMES[status]),
            }
            if meeting is not None:
                slot["meeting_id"] = meeting["pk"]
            if status == "held":
                assert meeting is not None  # "held" is a held meeting's status
                level = meeting["level"]
                slot.update(level=level, label=names.get(level, "✓") if level != UNSCORED else "✓")
            else:
                slot["label"] = MONTH_STATUS_MARKS[status]
                if meeting is not None and status in ("planned", "draft", "late"):
                    start = timezone.localtime(meeting["planned_start"]).date()
                    slot["title"] = _("%(status)s: họp ngày %(date)s") % {
                        "status": slot["title"],
                        "date": formatting.date_text(start),
                    }
            slots.append(slot)
        rows.append({"cell": cell, "slots": slots})
    return {"months": period.months, "rows": rows}


def scored_meeting_counts(*, scope: Organisation, period: Period, source: str = "rollups") -> list[dict]:
    """The period's held, scored meetings of the scope's cells counted per month, child group, kind and
    official level (``UNSCORED`` before confirmation): one grouped query.

    Both the quality chart and the Khối's heat map are sums of these rows, so the Khối dashboard reads
    the meetings and their scores once for the two (``counts=`` of ``quality_distribution`` and
    ``heat_map_groups``).
    """
    length = len(scope.path) + PATH_STEP_WIDTH
    if source == "rollups":  # the same rows summed from the monthly rollups (reports.rollups)
        return rollups.scored_meeting_counts(scope=scope, period=period, length=length)
    return list(
        _held(period.start, period.end, SCORED_KINDS)
        .filter(_of_cells_in(scope, period))
        .order_by()
        .values(
            "period_month",
            "kind",
            grp=_group("organisation__path", length),
            level=rollups.score_level(),
        )
        .annotate(meetings=Count("pk"))
    )


def heat_map_groups(
    *,
    scope: Organisation,
    period: Period,
    today: datetime.date | None = None,
    counts: list[dict] | None = None,
    current: dict | None = None,
) -> dict:
    """Children × months for a wide scope (the Khối): cells that held their regular meeting, of all cells,
    and how many of those meetings were confirmed Tốt or Khá; in the month in progress, how many are
    planned and how many are past the planning deadline without a plan. Two grouped queries and the
    children (one less with ``counts``, the rows of ``scored_meeting_counts``; one more for the month in
    progress without ``current``, the rows of ``current_month_counts``)."""
    today = today or timezone.localdate()
    length = len(scope.path) + PATH_STEP_WIDTH
    cells = dict(cells_in(scope, period).order_by().values_list(_group("path", length)).annotate(n=Count("pk")))
    if counts is None:
        counts = scored_meeting_counts(scope=scope, period=period)
    if current is None:
        current = current_month_counts(scope=scope, period=period, today=today, length=length)
    held: dict[tuple, dict] = {}
    for row in counts:
        if row["kind"] not in Meeting.REGULAR_KINDS:
            continue
        slot = held.setdefault((row["grp"], row["period_month"]), {"held": 0, "good": 0})
        slot["held"] += row["meetings"]
        if row["level"] in GOOD_MEETING_LEVELS:
            slot["good"] += row["meetings"]
    by_group_month = held
    in_progress = period.current_month(today)
    rows = []
    for child in group_rows(scope, period=period, length=length):
        total = cells.get(child.path, 0)
        if not total:
            continue
        slots = []
        for month in period.months:
            row = by_group_month.get((child.path, month), {"held": 0, "good": 0})
            slot = {"month": month, "held": row["held"], "good": row["good"], "cells": total}
            if month > today:
                slot["status"] = "future"
            elif month == in_progress:
                split = month_in_progress(
                    month=month,
                    today=today,
                    cells=total,
                    held=row["held"],
                    planned=current.get(child.path, {}).get("planned", 0),
                )
                slot.update(
                    status="late" if split["failed"] else "progress", pending=split["pending"], failed=split["failed"]
                )
            else:
                share = row["held"] * 100 / total
                slot["status"] = "all" if row["held"] == total else "most" if share >= 80 else "few"
            slots.append(slot)
        rows.append({"organisation": child, "slots": slots})
    return {"months": period.months, "rows": rows}


def quality_distribution(
    *, scope: Organisation, period: Period, counts: list[dict] | None = None, source: str = "rollups"
) -> dict:
    """Per month of the period: held scored meetings by official level (one grouped query, none with
    ``counts``, the rows of ``scored_meeting_counts``)."""
    if counts is None:
        counts = scored_meeting_counts(scope=scope, period=period, source=source)
    by_month_level: dict[tuple, int] = {}
    for row in counts:
        key = (row["period_month"], row["level"])
        by_month_level[key] = by_month_level.get(key, 0) + row["meetings"]
    by_month = by_month_level
    levels: list[tuple[str, Any]] = list(QUALITY_LEVELS)
    known = {code for code, _name in levels}
    for _month, level in by_month:
        if level not in known and level != UNSCORED:
            levels.append((level, level))
            known.add(level)
    levels.append((UNSCORED, _("Chưa xác nhận")))
    months = [
        {"month": month, "counts": [by_month.get((month, code), 0) for code, _name in levels]}
        for month in period.months
    ]
    return {"levels": levels, "months": months}
