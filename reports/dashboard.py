"""The dashboard page: everything it shows, and its tables for the XLSX export."""

import datetime
from collections.abc import Callable
from urllib.parse import urlencode

from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from cells.models import (
    PATH_STEP_WIDTH,
    Organisation,
)
from meetings.models import Meeting

from . import datacache
from .access import DASHBOARD_ROLES, SCOPE_KINDS, can_run_reports
from .figures import Figure, current_month_counts, dashboard
from .heatmap import MONTH_STATUS_NAMES, heat_map, heat_map_groups, quality_distribution, scored_meeting_counts
from .periods import Period
from .tables import Table
from .targets import FAILED, Target
from .warnings import minutes_overdue_grows_at, warnings


def attention(rows: list[dict], links: "DashboardLinks") -> list[dict]:
    """The units needing attention: the rows (children of the scope) with a target failed so far, the
    most failed targets first and, among those, the furthest behind (the sum of their shortfalls), each
    with its reasons in words and a link to its own page."""
    result = []
    for row in rows:
        failed = [figure for figure in row["figures"] if figure.status == FAILED]
        if failed:
            result.append(
                {
                    "organisation": row["organisation"],
                    "href": links.organisation(row["organisation"]),
                    "count": len(failed),
                    "severity": sum(figure.shortfall_share for figure in failed),
                    "reasons": [figure.reason for figure in failed],
                }
            )
    result.sort(key=lambda item: (-item["count"], -item["severity"], item["organisation"].path))
    return result


def dashboard_page(
    *, user, scope: Organisation, period: Period, today: datetime.date | None = None, source: str = "rollups"
) -> dict:
    """Everything the dashboard shows (a fixed number of queries), for the page and its XLSX export.

    The whole-tree meeting figures are sums of the monthly rollups (``source="rollups"``,
    reports.rollups); ``"records"`` counts them from the meetings instead (the same figures)."""
    today = today or timezone.localdate()
    return {
        **dashboard_figures(scope=scope, period=period, today=today, source=source),
        **dashboard_head(user=user, scope=scope, period=period, today=today),
        "can_run": can_run_reports(user, scope),
    }


def dashboard_head(*, user, scope: Organisation, period: Period, today: datetime.date) -> dict:
    """What the page shows around its figures, built for each request: what depends on the viewer (the
    link up, the report button) or on the time of day (the meetings of the next 14 days)."""
    from cells.selectors import roles_over

    parent = scope.parent if scope.parent_id else None
    up = (
        parent
        if parent is not None and parent.kind in SCOPE_KINDS and roles_over(user, parent) & DASHBOARD_ROLES
        else None
    )
    return {
        "scope": scope,
        "period": period,
        "period_query": urlencode(period.query()),
        "up": up,
        "today": today,
        "as_of": period.as_of(today),
        "period_open": not period.ended(today),
        "upcoming": upcoming_meetings(scope=scope),
    }


def dashboard_figures(*, scope: Organisation, period: Period, today: datetime.date, source: str = "rollups") -> dict:
    """The dashboard's figures: the same for every viewer of ``scope`` on the local day ``today``."""
    length = len(scope.path) + PATH_STEP_WIDTH
    # The month in progress is read once for the targets and the Khối's heat map.
    current = current_month_counts(scope=scope, period=period, today=today, length=length)
    figures = dashboard(scope=scope, period=period, today=today, current=current, source=source)
    # The Khối's heat map and quality chart count the same meetings: read them once.
    khoi = scope.kind == Organisation.Kind.KHOI
    scored = scored_meeting_counts(scope=scope, period=period, source=source) if khoi else None
    distribution = quality_distribution(scope=scope, period=period, counts=scored, source=source)
    heat = heat_map(scope=scope, period=period, today=today) if scope.kind != Organisation.Kind.KHOI else None
    heat_groups = (
        heat_map_groups(scope=scope, period=period, today=today, counts=scored, current=current)
        if scope.kind == Organisation.Kind.KHOI
        else None
    )
    links = DashboardLinks(scope, period)
    warning_list = warnings(scope=scope, period=period, today=today)
    heat_months = heat["months"] if heat is not None else heat_groups["months"]  # type: ignore[index]  # one is set
    return {
        "scope": scope,
        "period": period,
        "today": today,
        **figures,
        "heat": heat,
        "heat_groups": heat_groups,
        # The month the heat map scrolls to on a phone: the one in progress, or the period's last.
        "heat_focus": period.current_month(today) or (heat_months[-1] if heat_months else None),
        "distribution": distribution,
        "quality_rows": [
            {
                "code": code,
                "name": name,
                "cells": [
                    {
                        "month": m["month"],
                        "count": m["counts"][index],
                        "href": links.drill("quality", level=code, in_month=m["month"].month),
                    }
                    for m in distribution["months"]
                ],
            }
            for index, (code, name) in enumerate(distribution["levels"])
        ],
        "warnings": [
            {**warning, "href": links.drill(warning["code"]) if warning["count"] else ""} for warning in warning_list
        ],
        "total_rows": [
            {"figure": figure, "href": links.figure_drill(figure.target) if figure.den or figure.pending else ""}
            for figure in figures["total"]
        ],
        "attention": attention(figures["rows"], links),
        # The links of the page; the Khối's heat map and the table by organisation are written with them by
        # the tags of reports.templatetags.dashboard.
        "links": links,
        "heat_rows": links.heat_rows(heat) if heat is not None else None,
    }


def dashboard_parts(*, scope: Organisation, period: Period, today: datetime.date) -> dict[str, SafeString]:
    """The figures' two parts of the page as HTML (above and below the coming meetings), from the cache
    when no counted record changed since they were rendered (reports.datacache)."""

    def render() -> dict[str, str]:
        context = dashboard_figures(scope=scope, period=period, today=today)
        return {
            "attention": render_to_string("reports/_dashboard_attention.html", context),
            "figures": render_to_string("reports/_dashboard_figures.html", context),
        }

    parts = datacache.cached(
        "dashboard",
        render,
        vary=(scope.pk, urlencode(period.query()), today.isoformat()),
        changes_at=lambda: minutes_overdue_grows_at(scope=scope, period=period, now=timezone.now()),
    )
    return {name: mark_safe(html) for name, html in parts.items()}  # noqa: S308  # our own rendered templates


UPCOMING_DAYS = 14


def upcoming_meetings(*, scope: Organisation, now: datetime.datetime | None = None, limit: int = 15) -> list:
    """The subtree's noticed meetings of the next ``UPCOMING_DAYS`` days, soonest first (the officer's
    home shows where to go; one query)."""
    now = now or timezone.now()
    return list(
        Meeting.objects.filter(
            organisation__path__startswith=scope.path,
            state=Meeting.State.NOTIFIED,
            planned_start__gte=now,
            planned_start__lt=now + datetime.timedelta(days=UPCOMING_DAYS),
        )
        .select_related("organisation", "organisation__parent")
        .order_by("planned_start", "pk")[:limit]
    )


def _link_maker(name: str) -> Callable[[int], str]:
    """Links to the page ``name`` of many objects for one ``reverse``: the pk is put into a reversed URL."""
    placeholder = 2147483647  # no object has it
    pattern = reverse(name, args=[placeholder])
    return lambda pk: pattern.replace(str(placeholder), str(pk))


class DashboardLinks:
    """The dashboard's thousands of links, built with string joins.

    The page has a link in every cell of the table by organisation and of the heat map: each URL is
    reversed once (per metric, per kind of page) and the pks are joined to it, instead of one
    ``{% url %}`` per cell, which made the template most of the page's time.
    """

    def __init__(self, scope: Organisation, period: Period):
        self.scope = scope
        self.period_query = urlencode(period.query())
        self.year = period.year
        self._drill_urls: dict[str, str] = {}
        self.dashboard = _link_maker("reports:dashboard")
        self.cell_meetings = _link_maker("meetings:cell_list")
        self.meeting = _link_maker("meetings:detail")

    def drill_url(self, metric: str) -> str:
        if metric not in self._drill_urls:
            self._drill_urls[metric] = reverse("reports:drill", args=[self.scope.pk, metric])
        return self._drill_urls[metric]

    def drill(self, metric: str, **params) -> str:
        query = f"{self.period_query}&{urlencode(params)}" if params else self.period_query
        return f"{self.drill_url(metric)}?{query}"

    def figure_drill(self, target: Target) -> str:
        return self.drill(target.drill, **target.drill_params)

    def organisation(self, organisation: Organisation) -> str:
        """A child's own dashboard, or a cell's meetings."""
        if organisation.kind in SCOPE_KINDS:
            return f"{self.dashboard(organisation.pk)}?{self.period_query}"
        return self.cell_meetings(organisation.pk)

    def heat_rows(self, heat: dict) -> list[dict]:
        """A committee's heat map: per cell and month, the regular meeting linked to its page."""
        result = []
        for row in heat["rows"]:
            cell = row["cell"]
            slots = []
            for slot in row["slots"]:
                meeting_id = slot.get("meeting_id")
                slots.append({**slot, "href": self.meeting(meeting_id) if meeting_id else ""})
            result.append({"cell": cell, "href": self.cell_meetings(cell.pk), "slots": slots})
        return result


def _mark(figure: Figure) -> str:
    return figure.status_label


def dashboard_tables(context: dict) -> list[Table]:
    """The dashboard's tables as plain rows, for the XLSX export."""
    scope, period = context["scope"], context["period"]
    suffix = f"{scope.name}, {context.get('as_of') or period.label}"
    tables = [
        Table(
            _("Chỉ tiêu"),
            [_("Nhóm"), _("Chỉ tiêu"), _("Mục tiêu"), _("Kết quả"), _("Đang thực hiện"), _("Đánh giá")],
            [
                [str(f.target.section), str(f.target.label), f.target.goal, f.display, f.pending_display, _mark(f)]
                for f in context["total"]
            ],
        )
    ]
    columns = [_("Tổ chức đảng")]
    for target in context["targets"]:
        columns += [f"{target.label} ({target.goal})", _("Đánh giá")]
    by_child = Table(_("Theo tổ chức trực thuộc"), columns)
    for row in context["rows"]:
        cells = [row["organisation"].name]
        for figure in row["figures"]:
            cells += [figure.display, _mark(figure)]
        by_child.rows.append(cells)
    tables.append(by_child)
    heat = context["heat"]
    if heat is not None:
        heat_table = Table(_("Bản đồ sinh hoạt"), [_("Chi bộ"), _("Cấp trên")] + [f"{m:%m/%Y}" for m in heat["months"]])
        for row in heat["rows"]:
            cell = row["cell"]
            heat_table.rows.append(
                [cell.name, cell.parent.name if cell.parent_id else ""]
                + [
                    (str(slot["label"]) if slot["status"] == "held" else str(MONTH_STATUS_NAMES[slot["status"]]))
                    for slot in row["slots"]
                ]
            )
    else:
        heat = context["heat_groups"]
        heat_table = Table(_("Bản đồ sinh hoạt"), [_("Tổ chức đảng")] + [f"{m:%m/%Y}" for m in heat["months"]])
        for row in heat["rows"]:
            texts = []
            for slot in row["slots"]:
                if slot["status"] == "future":
                    texts.append("")
                elif slot["status"] in ("progress", "late"):
                    texts.append(_("%(held)s/%(cells)s (đang thực hiện %(pending)s, quá hạn %(failed)s)") % slot)
                else:
                    texts.append(f"{slot['held']}/{slot['cells']}")
            heat_table.rows.append([row["organisation"].name] + texts)
    tables.append(heat_table)
    distribution = context["distribution"]
    tables.append(
        Table(
            _("Chất lượng sinh hoạt"),
            [_("Tháng")] + [str(name) for _code, name in distribution["levels"]],
            [[f"{m['month']:%m/%Y}"] + m["counts"] for m in distribution["months"]],
        )
    )
    tables.append(
        Table(
            _("Cảnh báo"), [_("Cảnh báo"), _("Số lượng")], [[str(w["label"]), w["count"]] for w in context["warnings"]]
        )
    )
    if context.get("attention"):
        tables.append(
            Table(
                _("Cần quan tâm"),
                [_("Tổ chức đảng"), _("Số chỉ tiêu chưa đạt"), _("Lý do")],
                [
                    [item["organisation"].name, item["count"], "; ".join(item["reasons"])]
                    for item in context["attention"]
                ],
            )
        )
    tables[0].columns[0] = f"{_('Nhóm')} — {suffix}"
    return tables
