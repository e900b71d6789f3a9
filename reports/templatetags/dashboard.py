"""Presentation of the dashboard: the chart geometry and the HTML of the big grids."""

import html
from collections.abc import Callable
from decimal import ROUND_HALF_UP, Decimal
from urllib.parse import urlencode

from django.urls import reverse
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

from cells.models import (
    Organisation,
)

from ..access import SCOPE_KINDS
from ..counting import UNSCORED
from ..periods import Period
from ..targets import FAILED, IN_PROGRESS, MET, NO_DATA, STATUS_LABELS, Target


def quality_chart(distribution: dict, *, width: int = 720, height: int = 240) -> dict:
    """Bar geometry of the stacked chart (the SVG is drawn by the template)."""
    colours = {"tot": "#198754", "kha": "#0d6efd", "trung_binh": "#ffc107", "kem": "#dc3545", UNSCORED: "#adb5bd"}
    months = distribution["months"]
    highest = max([sum(m["counts"]) for m in months] + [1])
    # Room on the left for the y axis and its title, below for the month numbers and the x axis title.
    left, bottom, top = 44, 40, 10
    plot_height = height - bottom - top
    slot = (width - left) / max(len(months), 1)
    bars = []
    for index, month in enumerate(months):
        y = height - bottom
        for (code, name), count in zip(distribution["levels"], month["counts"], strict=True):
            if not count:
                continue
            bar_height = count * plot_height / highest
            y -= bar_height
            bars.append({"x": round(left + index * slot + slot * 0.15, 1), "y": round(y, 1),
                         "width": round(slot * 0.7, 1), "height": round(bar_height, 1),
                         "colour": colours.get(code, "#6c757d"), "title": f"{month['month']:%m/%Y}: {name} {count}"})
    labels = [{"x": round(left + i * slot + slot / 2, 1), "text": f"{m['month']:%m}"} for i, m in enumerate(months)]
    legend = [{"name": name, "colour": colours.get(code, "#6c757d")} for code, name in distribution["levels"]]
    return {"width": width, "height": height, "bars": bars, "labels": labels, "legend": legend, "highest": highest,
            "axis_y": height - bottom, "left": left, "top": top, "label_y": height - bottom + 16,
            "mid_x": round(left + (width - left) / 2), "mid_y": round(top + plot_height / 2)}


def _link_maker(name: str) -> Callable[[int], str]:
    """Links to the page ``name`` of many objects for one ``reverse``: the pk is put into a reversed URL."""
    placeholder = 2147483647  # no object has it
    pattern = reverse(name, args=[placeholder])
    return lambda pk: pattern.replace(str(placeholder), str(pk))


def _percent_text(value: float) -> str:
    """A rate as a whole percentage, rounded half up like the ``floatformat`` filter."""
    return f"{Decimal(repr(value)).quantize(Decimal(1), rounding=ROUND_HALF_UP):f}%"


HEAT_GROUP_CLASSES = {"all": "s-held", "most": "s-most", "few": "s-missing", "progress": "s-progress",
                      "late": "s-late"}
# The cells of the two big grids (thousands of them) are written here rather than in the template,
# where they took more time than the database; every value put into them goes through html.escape.
STATUS_CLASSES = {MET: ' class="met"', FAILED: ' class="not-met"', IN_PROGRESS: ' class="in-progress"',
                  NO_DATA: ""}


class DashboardLinks:
    """The dashboard's thousands of links and cell texts, built with string joins.

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

    def child_rows(self, target_list: list[Target], rows: list[dict]) -> list[dict]:
        """The table by organisation: per row its link, per figure the drill-down link, text and class.
        A figure with nothing behind it ("—") is plain text, not a link to an empty list."""
        prefixes = [html.escape(f"{self.figure_drill(target)}&org=") for target in target_list]
        # The cell's tooltip: the target's name, the figure and its status (escaped once per column and
        # status: thousands of cells, and Django's number formatting is slow).
        names = [html.escape(f"{target.label} ({target.goal})") for target in target_list]
        statuses = {code: html.escape(str(label)) for code, label in STATUS_LABELS.items()}
        pending_word = html.escape(_("đang thực hiện"))
        result = []
        for row in rows:
            organisation = row["organisation"]
            org = html.escape(str(organisation.pk))
            cells = []
            for prefix, name, figure in zip(prefixes, names, row["figures"], strict=True):
                if figure.target.measure == "count":
                    text = str(int(figure.num)) if figure.den else "—"
                else:
                    value = figure.value
                    text = "—" if value is None else _percent_text(value)
                status = figure.status
                if figure.den or figure.pending:
                    detail = f"{int(figure.num)}/{int(figure.den)}" if figure.target.measure == "share" else text
                    title = f"{name}: {html.escape(detail)} — {statuses[status]}"
                    if figure.pending:
                        title += f" ({int(figure.pending)} {pending_word})"
                    inner = f'<a class="text-reset" href="{prefix}{org}" title="{title}">{html.escape(text)}</a>'
                else:
                    inner = html.escape(text)
                cells.append(f"<td{STATUS_CLASSES[status]}>{inner}</td>")
            result.append({"organisation": organisation, "href": self.organisation(organisation),
                           "cells": mark_safe("".join(cells))})  # noqa: S308 - escaped above
        return result

    def heat_group_rows(self, heat: dict) -> list[dict]:
        """The Khối's heat map: per child and month, cells that met of all, linked to the month's cells."""
        prefix = html.escape(f"{self.drill_url('regular')}?year={self.year}&month=")
        result = []
        for row in heat["rows"]:
            organisation = row["organisation"]
            org = html.escape(f"&org={organisation.pk}")
            slots = []
            for slot in row["slots"]:
                if slot["status"] == "future":
                    slots.append("<td></td>")
                    continue
                good = f' <span class="small">({int(slot["good"])})</span>' if slot["good"] else ""
                if slot["status"] in ("progress", "late"):
                    title = html.escape(_("%(held)s đã sinh hoạt, %(pending)s đang thực hiện, %(failed)s quá hạn lập "
                                          "kế hoạch") % {"held": int(slot["held"]), "pending": int(slot["pending"]),
                                                         "failed": int(slot["failed"])})
                else:
                    title = html.escape(_("%(held)s/%(cells)s chi bộ đã sinh hoạt") % {
                        "held": int(slot["held"]), "cells": int(slot["cells"])})
                slots.append(f'<td class="{HEAT_GROUP_CLASSES[slot["status"]]}" title="{title}"><a href="{prefix}'
                             f'{int(slot["month"].month)}{org}">{int(slot["held"])}/{int(slot["cells"])}</a>{good}</td>')
            result.append({"organisation": organisation, "href": self.organisation(organisation),
                           "slots": mark_safe("".join(slots))})  # noqa: S308 - escaped above, numbers as int
        return result

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
