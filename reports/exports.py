"""The files of the reports app: the annual report in the Party format (PDF) and XLSX workbooks."""

import copy

from django.utils.translation import gettext as _
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from lib import xlsx
from lib.documents import no_cyclic_gc, render_pdf
from lib.formatting import fmt_int, fmt_percent

from . import targets
from .drilldown import Table

HEADER_FONT = Font(bold=True)
MET_FILL = PatternFill("solid", fgColor="D1E7DD")
NOT_MET_FILL = PatternFill("solid", fgColor="F8D7DA")


def met_label(figure) -> str:
    """Đạt / Chưa đạt / Đang thực hiện / —: the words of the dashboard (``Figure.status_label``)."""
    return figure.status_label


# Section III of the PDF is one matrix (a row per organisation, a column per target) cut into this
# many targets per table: a landscape A4 page holds 13 columns of "93,4 %" over "57/61". One small
# table per organisation (the former layout) made 88 pages and most of the rendering time.
DETAIL_COLUMNS = 13


def _matrix_cell(figure) -> dict:
    """One figure as the matrix shows it: the result, its numerator/denominator, whether it is unmet."""
    measure, detail = figure.target.measure, ""
    if measure == "count":
        value = fmt_int(figure.num) if figure.den else "—"
    elif measure == "share" and figure.den:
        value, detail = fmt_percent(figure.value), f"{fmt_int(figure.num)}/{fmt_int(figure.den)}"
    else:
        value = fmt_percent(figure.value)
    return {
        "value": value,
        "detail": detail,
        "unmet": figure.met is False,
        "in_progress": figure.status == "in_progress",
    }


def _detail_tables(content: dict) -> list[dict]:
    """Section III: the figures of every organisation of the first level below the scope, as matrices."""
    rows = content["levels"][1]["rows"] if len(content["levels"]) > 1 else []
    numbered = list(enumerate(content["targets"], start=1))
    tables = []
    for start in range(0, len(numbered), DETAIL_COLUMNS):
        columns = numbered[start : start + DETAIL_COLUMNS]
        tables.append(
            {
                "columns": [{"number": number, "target": target} for number, target in columns],
                "rows": [
                    {
                        "organisation": row["organisation"],
                        "cells": [_matrix_cell(f) for f in row["figures"][start : start + DETAIL_COLUMNS]],
                    }
                    for row in rows
                ],
            }
        )
    return tables


def annual_report_pdf(content: dict) -> bytes:
    return render_pdf(
        "documents/annual_report.html", {**content, "met_label": met_label, "detail_tables": _detail_tables(content)}
    )


def _sheet_title(name: str, used: set) -> str:
    title = "".join(ch for ch in str(name) if ch not in "[]:*?/\\")[:31] or "Sheet"
    base, number = title, 2
    while title in used:
        title = f"{base[:28]}-{number}"
        number += 1
    used.add(title)
    return title


def _write_header(sheet, columns: list[str]) -> None:
    for cell in xlsx.append_row(sheet, columns):
        cell.font = HEADER_FONT
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    sheet.freeze_panes = "B2"


def _value(figure):
    value = figure.value
    return None if value is None else round(value, 2)


def annual_report_xlsx(content: dict) -> bytes:
    """One sheet per level (the scope, its TCCS, its cells) plus the list of targets.

    Organisation names are user text: written through ``lib.xlsx``, a name starting with "=" stays text.
    """
    workbook = xlsx.new_workbook()
    targets_sheet = workbook.active
    used = set()
    targets_sheet.title = _sheet_title(_("Chỉ tiêu"), used)
    _write_header(
        targets_sheet,
        [
            _("Mã"),
            _("Nhóm"),
            _("Chỉ tiêu"),
            _("Mục tiêu"),
            _("Kết quả"),
            _("Tử số"),
            _("Mẫu số"),
            _("Đang thực hiện"),
            _("Đánh giá"),
        ],
    )
    for figure in content["total"]:
        target = figure.target
        xlsx.append_row(
            targets_sheet,
            [
                target.code,
                target.section,
                target.label,
                target.goal,
                _value(figure),
                figure.num,
                figure.den,
                figure.pending,
                met_label(figure),
            ],
        )
    # 13,000 figures at province (issue #20): each status's words are translated once, and a fill is set
    # by copying the style of a cell that has it (assigning ``fill`` looks the fill up in the workbook's
    # list every time); no_cyclic_gc: openpyxl makes objects per cell, like WeasyPrint per box.
    labels: dict[str, str] = {}
    fills: dict[bool, object] = {}
    with no_cyclic_gc():
        for level in content["levels"]:
            sheet = workbook.create_sheet(_sheet_title(level["name"], used))
            columns = [_("Tổ chức đảng"), _("Cấp trên")]
            for target in content["targets"]:
                columns += [f"{target.label} ({target.goal})", _("Đánh giá")]
            _write_header(sheet, columns)
            for entry in level["rows"]:
                organisation, figures = entry["organisation"], entry["figures"]
                row = [organisation.name, organisation.parent.name if organisation.parent_id else ""]
                judged = []
                for figure in figures:
                    status = figure.status
                    if status not in labels:
                        labels[status] = met_label(figure)
                    row += [_value(figure), labels[status]]
                    judged.append({targets.MET: True, targets.FAILED: False}.get(status))
                cells = xlsx.append_row(sheet, row)
                for index, met in enumerate(judged):
                    if met is not None:
                        _fill(cells[3 + 2 * index], met, fills)
            _widths(sheet)
        _widths(targets_sheet)
        return xlsx.workbook_bytes(workbook)


def _fill(cell, met: bool, styled: dict) -> None:
    """``cell`` filled green (met) or red (not met): the first cell of each gets the fill, the others a copy
    of its style (``_style``, openpyxl's way of copying a cell's format)."""
    if met in styled:
        cell._style = copy.copy(styled[met]._style)
    else:
        cell.fill = MET_FILL if met else NOT_MET_FILL
        styled[met] = cell


def tables_xlsx(tables: list[Table]) -> bytes:
    """Any dashboard tables, one sheet each; a linked cell keeps its text (the link stays on the page).

    Names of members, organisations and tasks are user text: written through ``lib.xlsx``, text
    starting like a formula stays text.
    """
    workbook = xlsx.new_workbook(keep_first_sheet=False)
    used = set()
    for table in tables:
        sheet = workbook.create_sheet(_sheet_title(table.title, used))
        _write_header(sheet, table.columns)
        for row in table.rows:
            cells = xlsx.append_row(sheet, [cell[0] if isinstance(cell, tuple) else cell for cell in row])
            for cell in cells:
                if hasattr(cell.value, "isoformat"):
                    cell.number_format = "DD/MM/YYYY"
        _widths(sheet)
    if not workbook.sheetnames:
        workbook.create_sheet("Sheet")
    return xlsx.workbook_bytes(workbook)


def _widths(sheet) -> None:
    for index, column in enumerate(sheet.iter_cols(min_row=1, max_row=min(sheet.max_row, 200)), start=1):
        longest = max((len(str(c.value)) for c in column if c.value is not None), default=8)
        sheet.column_dimensions[get_column_letter(index)].width = min(max(longest + 2, 8), 60)
