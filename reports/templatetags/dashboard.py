"""Presentation of the dashboard (``{% load dashboard %}``): the quality chart's geometry and the
HTML of the two big grids.

The cells of the two big grids (thousands of them) are written here rather than in the template,
where they took more time than the database; every value put into them goes through html.escape.
Each tag runs once per page (``{% by_child_rows links targets rows as child_rows %}``), with the
URLs reversed once by ``reports.dashboard.DashboardLinks``.
"""

import html
from decimal import ROUND_HALF_UP, Decimal

from django import template
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

from lib import query

from ..counting import UNSCORED
from ..targets import FAILED, IN_PROGRESS, MET, NO_DATA, STATUS_LABELS, Target

register = template.Library()


@register.simple_tag
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
            bars.append(
                {
                    "x": round(left + index * slot + slot * 0.15, 1),
                    "y": round(y, 1),
                    "width": round(slot * 0.7, 1),
                    "height": round(bar_height, 1),
                    "colour": colours.get(code, "#6c757d"),
                    "title": f"{month['month']:%m/%Y}: {name} {count}",
                }
            )
    labels = [{"x": round(left + i * slot + slot / 2, 1), "text": f"{m['month']:%m}"} for i, m in enumerate(months)]
    legend = [{"name": name, "colour": colours.get(code, "#6c757d")} for code, name in distribution["levels"]]
    return {
        "width": width,
        "height": height,
        "bars": bars,
        "labels": labels,
        "legend": legend,
        "highest": highest,
        "axis_y": height - bottom,
        "left": left,
        "top": top,
        "label_y": height - bottom + 16,
        "mid_x": round(left + (width - left) / 2),
        "mid_y": round(top + plot_height / 2),
    }


def _percent_text(value: float) -> str:
    """A rate as a whole percentage, rounded half up like the ``floatformat`` filter."""
    return f"{Decimal(repr(value)).quantize(Decimal(1), rounding=ROUND_HALF_UP):f}%"


HEAT_GROUP_CLASSES = {"all": "s-held", "most": "s-most", "few": "s-missing", "progress": "s-progress", "late": "s-late"}
STATUS_CLASSES = {MET: ' class="met"', FAILED: ' class="not-met"', IN_PROGRESS: ' class="in-progress"', NO_DATA: ""}


@register.simple_tag
def by_child_rows(links, target_list: list[Target], rows: list[dict]) -> list[dict]:
    """The table by organisation: per row its link, per figure the drill-down link, text and class.
    A figure with nothing behind it ("—") is plain text, not a link to an empty list."""
    prefixes = [html.escape(f"{links.figure_drill(target)}&org=") for target in target_list]
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
        row_html = mark_safe("".join(cells))  # noqa: S308 - escaped above
        result.append({"organisation": organisation, "href": links.organisation(organisation), "cells": row_html})
    return result


@register.simple_tag
def heat_group_rows(links, heat: dict) -> list[dict]:
    """The Khối's heat map: per child and month, cells that met of all, linked to the month's cells."""
    prefix = html.escape(f"{links.drill_url('regular')}?{query.YEAR}={links.year}&{query.MONTH}=")
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
                title = html.escape(
                    _("%(held)s đã sinh hoạt, %(pending)s đang thực hiện, %(failed)s quá hạn lập kế hoạch")
                    % {"held": int(slot["held"]), "pending": int(slot["pending"]), "failed": int(slot["failed"])}
                )
            else:
                title = html.escape(
                    _("%(held)s/%(cells)s chi bộ đã sinh hoạt")
                    % {"held": int(slot["held"]), "cells": int(slot["cells"])}
                )
            slots.append(
                f'<td class="{HEAT_GROUP_CLASSES[slot["status"]]}" title="{title}"><a href="{prefix}'
                f'{int(slot["month"].month)}{org}">{int(slot["held"])}/{int(slot["cells"])}</a>{good}</td>'
            )
        row_html = mark_safe("".join(slots))  # noqa: S308 - escaped above, numbers as int
        result.append({"organisation": organisation, "href": links.organisation(organisation), "slots": row_html})
    return result
