"""The member import and export under hostile files: the preview never fails or writes, the confirmation
writes every row or none, and the export never turns a member's text into a live formula."""

import codecs
import datetime
import io
import zipfile

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from hypothesis import event, example, given, settings
from hypothesis import strategies as st
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from cells.models import AuditEntry, CellMembership, Member
from lib.xlsx import FORMULA_PREFIXES
from tests.factories import make_member

from .conftest import rolled_back, row_counts

pytestmark = pytest.mark.django_db

TABLES = (Member, CellMembership, AuditEntry)
HEADERS = [
    "STT",
    "Họ và tên",
    "Ngày sinh",
    "Giới tính",
    "Số CCCD",
    "Điện thoại",
    "Email",
    "Số thẻ đảng viên",
    "Ngày vào Đảng",
    "Ngày lễ kết nạp",
    "Ngày chính thức",
    "Loại",
    "Nơi công tác",
    "Chức vụ",
    "Chi bộ",
    "Mã chi bộ",
]
FORMULAS = [
    "=1+1",
    '=HYPERLINK("http://example.com/x","Bấm vào đây")',
    "@SUM(A1)",
    "+cmd|' /C calc'!A0",
    "-2+3",
    "=A1/0",
    "=NOW()",
    "=cmd|' /C notepad'!'A1'",
]


def valid_row(n: int, cell) -> dict:
    return {
        "STT": n,
        "Họ và tên": f"Nguyễn Thị Thử {n}",
        "Ngày sinh": datetime.datetime(1985, 3, 15),
        "Giới tính": "Nữ",
        "Số CCCD": f"0010851{n:05d}",
        "Điện thoại": f"09130{n:05d}",
        "Email": f"thu{n}@example.vn",
        "Số thẻ đảng viên": f"PT{n:06d}",
        "Ngày vào Đảng": "19/05/2010",
        "Ngày lễ kết nạp": "20/05/2010",
        "Ngày chính thức": datetime.datetime(2011, 5, 20),
        "Loại": "Chính thức",
        "Nơi công tác": "Sở Tài chính",
        "Chức vụ": "Chuyên viên",
        "Chi bộ": cell.name,
        "Mã chi bộ": cell.pk,
    }


def workbook_bytes(rows: list[dict], headers: list, *, blank_rows_above: int = 1) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for _ in range(blank_rows_above):
        sheet.append(["SỔ DANH SÁCH ĐẢNG VIÊN"])
    sheet.append(headers)
    for row in rows:
        sheet.append([row.get(header) for header in headers])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


# What a cell of a file made elsewhere can hold: formulas, huge or odd text, numbers and booleans
# where dates are expected, dates Excel cannot show, nothing at all.
printable_text = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=40).map(
    lambda text: ILLEGAL_CHARACTERS_RE.sub("", text)
)
odd_cell = st.one_of(
    st.sampled_from(FORMULAS),
    st.sampled_from(
        [
            None,
            "",
            "   ",
            "x" * 5000,
            "Nguyễn " * 1000,
            "31/02/2020",
            "01/01/0001",
            "9999-12-31",
            "\u202eابت",
            "👍🏽",
            "Chính thức\u200b",
            "nam ",
            "NỮ",
            "00",
            "0" * 30,
        ]
    ),
    st.integers(min_value=-(10**15), max_value=10**15),
    st.floats(allow_nan=False, allow_infinity=False),
    st.booleans(),
    st.datetimes(),  # openpyxl writes and reads back any year from 1 to 9999
    st.dates(),
    st.times(),
    st.timedeltas(min_value=datetime.timedelta(0), max_value=datetime.timedelta(days=10**5)),
    printable_text,
)
row_overrides = st.dictionaries(st.sampled_from(HEADERS), odd_cell, max_size=3)
headers_strategy = st.one_of(
    st.just(HEADERS),
    st.permutations(HEADERS),
    st.sets(st.sampled_from(HEADERS), min_size=1, max_size=2).map(lambda drop: [h for h in HEADERS if h not in drop]),
    st.lists(st.sampled_from(["Ghi chú", "", "Họ và tên", "Loại", "=1+1", "Mã chi bộ"]), min_size=1, max_size=2).map(
        lambda extra: HEADERS + extra
    ),
)


def upload(client, content: bytes, name: str = "danh-sach.xlsx"):
    return client.post(reverse("cells:member_import"), {"file": SimpleUploadedFile(name, content, XLSX)})


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@settings(max_examples=30)
@given(
    overrides=st.lists(st.one_of(row_overrides, st.just(None)), min_size=1, max_size=4),
    headers=headers_strategy,
    blank_rows_above=st.sampled_from([0, 1, 1, 1, 5, 25]),
)
def test_preview_writes_nothing_and_confirmation_writes_every_row_or_none(
    client_for, people, tree, overrides, headers, blank_rows_above
):
    client = client_for(people.officer)
    rows = []
    for n, changes in enumerate(overrides, start=1):
        rows.append({} if changes is None else {**valid_row(n, tree.cell), **changes})  # None: an empty row
    content = workbook_bytes(rows, headers, blank_rows_above=blank_rows_above)
    with rolled_back():
        before = row_counts(*TABLES)
        response = upload(client, content)
        assert response.status_code == 200
        assert row_counts(*TABLES) == before
        preview = response.context.get("preview")
        clean = preview is not None and preview.is_valid and preview.has_writes
        token = response.context.get("token") if clean else None
        event("clean preview" if token else "refused" if preview is None else "rows with errors")
        if not token:
            assert response.context["form"].errors or (preview and (preview.bad_rows or preview.problems))
            return
        written = len(preview.rows)
        response = client.post(reverse("cells:member_import_confirm"), {"token": token})
        assert response.status_code == 302
        assert row_counts(*TABLES) == {label: count + written for label, count in before.items()}


@settings(max_examples=15)
@given(size=st.integers(min_value=2, max_value=5), data=st.data())
def test_confirmation_writes_nothing_when_one_row_became_a_duplicate_after_the_preview(
    client_for, people, tree, size, data
):
    client = client_for(people.officer)
    rows = [valid_row(n, tree.cell) for n in range(1, size + 1)]
    taken = data.draw(st.sampled_from(rows))
    with rolled_back():
        response = upload(client, workbook_bytes(rows, HEADERS))
        token = response.context["token"]
        make_member(organisation=tree.sibling, party_card_number=taken["Số thẻ đảng viên"])  # meanwhile, elsewhere
        before = row_counts(*TABLES)
        response = client.post(reverse("cells:member_import_confirm"), {"token": token})
        assert response.status_code == 200
        assert "Chưa nhập đảng viên nào" in response.content.decode()
        assert row_counts(*TABLES) == before


def _valid_file(tree) -> bytes:
    return workbook_bytes([valid_row(1, tree.cell)], HEADERS)


def _zip_with(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in entries.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def _huge_shared_strings(tree) -> bytes:
    """A real workbook whose shared strings unpack to ~110 MB, in a file of about 100 kB."""
    source = zipfile.ZipFile(io.BytesIO(_valid_file(tree)))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for info in source.infolist():
            if info.filename != "xl/sharedStrings.xml":
                archive.writestr(info, source.read(info.filename))
        with archive.open("xl/sharedStrings.xml", "w", force_zip64=True) as target:
            target.write(
                b'<?xml version="1.0"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
            )
            chunk = b"<si><t>" + b"A" * 1_000_000 + b"</t></si>"
            for _ in range(110):
                target.write(chunk)
            target.write(b"</sst>")
    return buffer.getvalue()


CSV = "Họ và tên;Ngày sinh;Loại;Chi bộ\nNguyễn Văn Một;15/03/1985;Chính thức;Chi bộ Văn phòng\n"
GARBAGE = {
    "utf16_csv": lambda tree: codecs.BOM_UTF16_LE + CSV.encode("utf-16-le"),
    "cp1258_csv": lambda tree: CSV.encode("cp1258", errors="replace"),
    "empty": lambda tree: b"",
    "truncated_zip": lambda tree: _valid_file(tree)[:1500],
    "zip_cut_in_half": lambda tree: _valid_file(tree)[: len(_valid_file(tree)) // 2],
    "zip_without_workbook": lambda tree: _zip_with({"hello.txt": b"xin chao"}),
    "workbook_xml_is_garbage": lambda tree: _zip_with(
        {"xl/workbook.xml": b"\x00\xff<not xml", "[Content_Types].xml": b""}
    ),
    "xls_97": lambda tree: b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600,
    "huge_shared_strings": _huge_shared_strings,
    "no_header_row": lambda tree: workbook_bytes([], ["Cột A", "Cột B"]),
    "header_only": lambda tree: workbook_bytes([], HEADERS),
}


@pytest.mark.parametrize("kind", sorted(GARBAGE))
def test_files_that_are_not_member_lists_get_a_clear_error(client_for, people, tree, kind):
    client = client_for(people.officer)
    content = GARBAGE[kind](tree)
    before = row_counts(*TABLES)
    response = upload(client, content)
    assert response.status_code == 200
    assert response.context["form"].errors["file"]
    assert row_counts(*TABLES) == before


@settings(max_examples=25)
@given(
    content=st.one_of(st.binary(max_size=2000), st.binary(max_size=2000).map(lambda tail: b"PK\x03\x04" + tail)),
    name=st.sampled_from(["a.xlsx", "a.XLSX", "a.xls", "a.csv", "a", "..xlsx", "ds.xlsx.exe"]),
)
def test_random_bytes_are_refused_with_an_error_on_the_field(client_for, people, content, name):
    client = client_for(people.officer)
    with rolled_back():
        before = row_counts(*TABLES)
        response = upload(client, content, name)
        assert response.status_code == 200
        assert response.context["form"].errors["file"]
        assert row_counts(*TABLES) == before


@settings(max_examples=20)
@given(
    name=st.one_of(st.sampled_from(FORMULAS), printable_text.map(lambda text: "=" + text)),
    workplace=st.one_of(st.sampled_from(FORMULAS), printable_text),
)
# A lone carriage return (found by a run on 01/01/2027): the workbook writes it as "&#13;", read back as is.
@example(name="=\r0", workplace="=1+1")
@example(name="=a\r\nb", workplace="x")
def test_export_keeps_text_that_looks_like_a_formula_as_text(client_for, people, tree, name, workplace):
    client = client_for(people.officer)
    with rolled_back():
        make_member(organisation=tree.cell, full_name=name.strip()[:120] or "=", workplace=workplace.strip())
        response = client.get(reverse("cells:member_export"))
        assert response.status_code == 200
        content = b"".join(response.streaming_content) if response.streaming else response.content
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            sheet_xml = archive.read("xl/worksheets/sheet1.xml")
        assert b"<f>" not in sheet_xml and b"<f " not in sheet_xml
        sheet = openpyxl.load_workbook(io.BytesIO(content)).active
        texts = [cell for row in sheet.iter_rows(min_row=4) for cell in row if isinstance(cell.value, str)]
        risky = [cell for cell in texts if cell.value.startswith(FORMULA_PREFIXES)]
        # The text comes back exactly: a carriage return is written as a character reference ("&#13;"),
        # which XML keeps (a bare one would be read back as a line feed).
        written = name.strip()[:120] or "="
        assert any(cell.value == written for cell in risky), [cell.value for cell in risky]
        for cell in risky:
            assert cell.data_type == "s" and cell.quotePrefix
