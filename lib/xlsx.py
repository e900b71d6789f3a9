"""The one spreadsheet writer of the portal: every XLSX it sends is saved here, and user text stays text.

A name, a note or an organisation typed by a user can start like a formula: ``=HYPERLINK(...)``
runs when the file is opened, ``+``, ``-`` and ``@`` become formulas once the cell is edited or the
text pasted elsewhere, and a leading tab or carriage return is how CSV/DDE injection hides the sign
(OWASP "CSV injection"). openpyxl turns any str starting with ``=`` into a formula cell. Here such
text is written as an explicit string cell (``data_type 's'``) with Excel's quote prefix, so Excel
shows the text and keeps it text when the cell is edited. The portal writes no formula of its own.

Use ``append_row`` for rows (it also drops the control characters Excel cannot store, which openpyxl
refuses with an error) and ``write_cell`` for single cells; ``workbook_bytes`` saves the workbook and
is the guarantee: it walks every cell once more, whichever way a cell was written.
"""

import datetime
import decimal
import io

from django.utils import timezone
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, Cell

CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# Text starting like this is, or becomes, a formula in Excel or LibreOffice.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
# Excel's own limit of a cell's text.
MAX_CELL_CHARACTERS = 32767
NATIVE_TYPES = (bool, int, float, decimal.Decimal, datetime.date, datetime.time, datetime.timedelta)

__all__ = [
    "CONTENT_TYPE",
    "FORMULA_PREFIXES",
    "Workbook",
    "append_row",
    "as_text",
    "new_workbook",
    "workbook_bytes",
    "write_cell",
]


def new_workbook(*, keep_first_sheet: bool = True) -> Workbook:
    """An empty workbook; without ``keep_first_sheet`` it has no sheet until one is created."""
    workbook = Workbook()
    if not keep_first_sheet:
        workbook.remove(workbook.active)
    return workbook


def _clean(value):
    """A value openpyxl can store: numbers and dates as they are (an aware time in local time), anything
    else as its text (lazy translations included), without the control characters Excel cannot store."""
    if isinstance(value, datetime.datetime) and value.tzinfo is not None:
        # Excel has no time zones: the time as the portal shows it (Asia/Ho_Chi_Minh).
        return timezone.localtime(value).replace(tzinfo=None)
    if value is None or isinstance(value, NATIVE_TYPES):
        return value
    return ILLEGAL_CHARACTERS_RE.sub("", str(value))[:MAX_CELL_CHARACTERS]


def _is_risky(cell) -> bool:
    if cell.data_type in ("f", "e"):
        return True
    return isinstance(cell.value, str) and cell.value.startswith(FORMULA_PREFIXES)


def as_text(cell) -> None:
    """Keep ``cell`` a plain string cell if its text starts like a formula (or was taken for one)."""
    if _is_risky(cell):
        cell.data_type = "s"  # not "f": Excel shows the text and runs nothing
        cell.quotePrefix = True  # Excel keeps it text even when the cell is edited


def write_cell(sheet, *, row: int, column: int, value):
    """Set one cell to ``value``, text kept as text; returns the cell for styling."""
    cell = sheet.cell(row=row, column=column)
    cell.value = _clean(value)
    as_text(cell)
    return cell


def append_row(sheet, values) -> list:
    """Append ``values`` as the next row, text kept as text; returns the row's cells for styling.

    The cells are made here and handed to ``append``: asking the sheet for its last row instead
    (``max_row``) scans every cell, quadratic over a large sheet.
    """
    cells = [Cell(sheet, value=_clean(value)) for value in values]
    for cell in cells:
        as_text(cell)
    sheet.append(cells)
    return cells


def workbook_bytes(workbook: Workbook) -> bytes:
    """The .xlsx file of ``workbook``, after a last pass that leaves no formula cell in it."""
    for sheet in workbook.worksheets:
        # The cells that exist, as openpyxl's own writer reads them: iter_rows() would create an
        # empty cell at every coordinate of the used rectangle.
        for cell in sheet._cells.values():
            as_text(cell)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
