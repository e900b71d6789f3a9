"""The tables of the drill-down pages and exports, and the links their cells carry."""

import datetime
from dataclasses import dataclass, field

from django.urls import reverse

from lib.formatting import fmt_int


@dataclass
class Table:
    """A table for the page and for the XLSX export alike: rows of cells, a cell is text or (text, url)."""

    title: str
    columns: list[str]
    rows: list[list] = field(default_factory=list)

    def display_rows(self) -> list[list[dict]]:
        """The rows for the page: each cell a dict with its ``text``, ``url`` (or "") and ``is_date``."""
        result = []
        for row in self.rows:
            cells = []
            for cell in row:
                text, url = cell if isinstance(cell, tuple) else (cell, "")
                is_date = isinstance(text, datetime.date)
                if isinstance(text, int) and not isinstance(text, bool):
                    text = fmt_int(text)
                cells.append({"text": text, "url": url, "is_date": is_date})
            result.append(cells)
        return result


def org_link(organisation) -> tuple[str, str]:
    return (organisation.name, reverse("cells:organisation_detail", args=[organisation.pk]))


def cell_meetings_link(organisation) -> tuple[str, str]:
    return (organisation.name, reverse("meetings:cell_list", args=[organisation.pk]))


def meeting_link(meeting) -> tuple[str, str]:
    return (
        f"{meeting.get_kind_display()} {meeting.period_month:%m/%Y}",
        reverse("meetings:detail", args=[meeting.pk]),
    )


def member_link(member) -> tuple[str, str]:
    return (member.full_name, reverse("cells:member_detail", args=[member.pk]))


def parent_name(organisation) -> str:
    return organisation.parent.name if organisation.parent_id else ""
