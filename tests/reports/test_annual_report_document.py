"""The annual report PDF as a document: every number is there, section III is one compact matrix."""

import re
import subprocess

from reports import exports, services

from .conftest import YEAR


def _pdf(content: dict, tmp_path) -> tuple[str, list[str]]:
    """The PDF's text (layout kept) and each page's size as pdfinfo prints it."""
    path = tmp_path / "report.pdf"
    path.write_bytes(exports.annual_report_pdf(content))
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout
    info = subprocess.run(
        ["pdfinfo", "-f", "1", "-l", "999", str(path)], capture_output=True, text=True, check=True
    ).stdout
    sizes = re.findall(r"Page\s+\d+ size:\s+([\d.]+ x [\d.]+)", info)
    return text, sizes


def test_section_three_is_one_matrix_of_every_tccs_and_target(khoi):
    content = services.annual_report_content(scope=khoi.khoi, year=YEAR)
    tables = exports._detail_tables(content)
    targets = content["targets"]
    # Columns: every target once, numbered as in section I, cut into tables of DETAIL_COLUMNS.
    numbers = [column["number"] for table in tables for column in table["columns"]]
    assert numbers == list(range(1, len(targets) + 1))
    assert all(len(table["columns"]) <= exports.DETAIL_COLUMNS for table in tables)
    # Rows: the TCCS of section II, in its order, in every table.
    for table in tables:
        assert [row["organisation"].name for row in table["rows"]] == ["Đảng bộ A", "Đảng bộ B", "Chi bộ C"]
    # Each cell is the figure of section II's row: result, numerator/denominator, and whether it is unmet.
    level_rows = content["levels"][1]["rows"]
    for table in tables:
        for row, level_row in zip(table["rows"], level_rows, strict=True):
            figures = [level_row["figures"][column["number"] - 1] for column in table["columns"]]
            for cell, figure in zip(row["cells"], figures, strict=True):
                assert figure.display.startswith(cell["value"])
                if cell["detail"]:
                    assert figure.display.endswith(f"({cell['detail']})")
                assert cell["unmet"] == (figure.met is False)


def test_pdf_keeps_the_party_format_and_every_number(khoi, tmp_path, pdftotext_available):
    content = services.annual_report_content(scope=khoi.khoi, year=YEAR)
    text, sizes = _pdf(content, tmp_path)
    assert "ĐẢNG CỘNG SẢN VIỆT NAM" in text and "BÁO CÁO" in text and "-BC/ĐUK" in text
    assert "T/M BAN THƯỜNG VỤ" in text and "Nơi nhận:" in text
    first, detail = text.index("I. KẾT QUẢ THỰC HIỆN CÁC CHỈ TIÊU"), text.index("III. SỐ LIỆU CHI TIẾT TỪNG TỔ CHỨC")
    # Section I: the whole Khối's figure of every target, as written.
    for figure in content["total"]:
        assert figure.display in text[first:detail]
    # Section III: every TCCS, with each of its results and numerator/denominator.
    matrix = text[detail : text.index("Ghi chú:")]
    for name in ("Đảng bộ A", "Đảng bộ B", "Chi bộ C"):
        assert name in matrix
    a_regular = next(f for f in content["levels"][1]["rows"][0]["figures"] if f.target.code == "regular_months")
    assert (a_regular.num, a_regular.den) == (33, 36)  # A2 missed March, A3 July and August
    assert "91,7 %" in matrix and "33/36" in matrix
    # Portrait A4 for the text and the signatures, landscape A4 for the matrix.
    portrait, landscape = "595.276 x 841.89", "841.89 x 595.276"
    assert sizes[0] == portrait and sizes[-1] == portrait and landscape in sizes
