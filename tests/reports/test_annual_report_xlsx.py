"""The annual report's workbook: each figure's value, its status in words and its fill (issue #20 builds the
fills and the words once per status; the workbook must not change)."""

import io

from openpyxl import load_workbook

from reports import exports, services, targets

from .conftest import YEAR

FILLS = {targets.MET: exports.MET_FILL.fgColor.rgb, targets.FAILED: exports.NOT_MET_FILL.fgColor.rgb}


def test_every_figure_has_its_value_words_and_fill(khoi):
    content = services.annual_report_content(scope=khoi.khoi, year=YEAR)
    workbook = load_workbook(io.BytesIO(exports.annual_report_xlsx(content)))
    for level in content["levels"]:
        sheet = workbook[level["name"]]
        rows = list(sheet.iter_rows(min_row=2))
        assert [row[0].value for row in rows] == [entry["organisation"].name for entry in level["rows"]]
        for row, entry in zip(rows, level["rows"], strict=True):
            for index, figure in enumerate(entry["figures"]):
                value, words = row[2 + 2 * index], row[3 + 2 * index]
                assert value.value == (None if figure.value is None else round(figure.value, 2))
                assert words.value == figure.status_label
                expected = FILLS.get(figure.status)
                assert (words.fill.fgColor.rgb if words.fill.fill_type else None) == expected, (figure, words.fill)


def test_a_hand_worked_row(khoi):
    """Đảng bộ A held 33 of its 36 regular cell-months (A2 missed March, A3 July and August): 91,67 %,
    short of the 100 % target, written "Chưa đạt" on the red fill."""
    content = services.annual_report_content(scope=khoi.khoi, year=YEAR)
    sheet = load_workbook(io.BytesIO(exports.annual_report_xlsx(content)))["TCCS"]
    column = 3 + 2 * [t.code for t in content["targets"]].index("regular_months")
    a = next(row for row in sheet.iter_rows(min_row=2) if row[0].value == "Đảng bộ A")
    assert a[column - 1].value == 91.67
    assert a[column].value == "Chưa đạt"
    assert a[column].fill.fgColor.rgb == exports.NOT_MET_FILL.fgColor.rgb
