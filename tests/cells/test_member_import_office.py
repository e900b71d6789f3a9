"""The member list an office keeps, imported as it is (issue 19, item 2).

The workbook is built as offices lay it out: the upper committee and the cell's name above, the
title merged across the page, a two-row merged header on rows 7–8 ("Chức vụ" over "Đảng" |
"Chính quyền"), a row of column numbers, 50 members with Excel dates and dd/mm/yyyy text mixed,
a total line and the signature block.
"""

import datetime
import io

import openpyxl
import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from cells import member_excel
from cells.models import AuditEntry, Member, MemberImportMapping, Position

pytestmark = pytest.mark.django_db

TODAY = datetime.datetime(2027, 1, 3, 9, 0)
HEADER = [
    "STT",
    "Họ và tên",
    "Ngày sinh",
    "Giới tính",
    "Quê quán",
    "Ngày vào Đảng",
    "Ngày chính thức",
    "Số thẻ đảng viên",
    "Chức vụ",
    None,
    "Chi bộ",
    "Ghi chú",
]
SUB_HEADER = [None] * 8 + ["Đảng", "Chính quyền", None, None]
FIRST_MEMBER_ROW = 10  # rows 7-8 the header, row 9 the column numbers
PROBATIONARY = 50  # the member admitted last, with no "Ngày chính thức" yet


def office_member(n: int, cell) -> list:
    """One member line as an office types it; dates alternate between Excel dates and text."""
    official = n != PROBATIONARY
    return [
        n,
        f"Nguyễn Văn Thành {n}",
        datetime.datetime(1980, 1 + n % 12, 1 + n % 28) if n % 2 else f"{1 + n % 28:02d}/{1 + n % 12:02d}/1980",
        "Nam" if n % 2 else "Nữ",
        f"Xã Gio Linh {n}, Quảng Trị",
        "19/05/2005" if official else datetime.datetime(2026, 6, 15),
        datetime.datetime(2006, 5, 19) if official and n % 3 else ("19/05/2006" if official else None),
        f"7{n:07d}",
        {1: "Bí thư", 2: "Phó Bí thư", 3: "Chi ủy viên"}.get(n, "Đảng viên"),
        "Chuyên viên",
        cell.name,
        "Chuyển đến từ Đảng bộ huyện" if n == 5 else None,
    ]


def office_workbook(cell, *, members=50, edit=None) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet["A1"] = "ĐẢNG BỘ SỞ TÀI CHÍNH"
    sheet.merge_cells("A1:E1")
    sheet["H1"] = "ĐẢNG CỘNG SẢN VIỆT NAM"
    sheet.merge_cells("H1:L1")
    sheet["A2"] = cell.name.upper()
    sheet["A4"] = "SỔ DANH SÁCH ĐẢNG VIÊN"
    sheet.merge_cells("A4:L4")
    sheet["A5"] = "(Tính đến ngày 31/12/2026)"
    for column, value in enumerate(HEADER, start=1):
        sheet.cell(row=7, column=column, value=value)
    for column, value in enumerate(SUB_HEADER, start=1):
        if value:
            sheet.cell(row=8, column=column, value=value)
    for letter in "ABCDEFGHKL":
        sheet.merge_cells(f"{letter}7:{letter}8")
    sheet.merge_cells("I7:J7")
    for column in range(1, 13):
        sheet.cell(row=9, column=column, value=f"({column})")
    lines = [office_member(n, cell) for n in range(1, members + 1)]
    if edit:
        edit(lines)
    for offset, line in enumerate(lines):
        for column, value in enumerate(line, start=1):
            sheet.cell(row=FIRST_MEMBER_ROW + offset, column=column, value=value)
    total_row = FIRST_MEMBER_ROW + len(lines)
    sheet.cell(row=total_row, column=1, value=f"Tổng số: {members} đảng viên")
    sheet.merge_cells(f"A{total_row}:L{total_row}")
    sheet.cell(row=total_row + 2, column=2, value="Người lập biểu")
    sheet.cell(row=total_row + 2, column=9, value="Đông Hà, ngày 03 tháng 01 năm 2027")
    sheet.cell(row=total_row + 3, column=9, value="T/M CHI BỘ")
    sheet.cell(row=total_row + 4, column=9, value="BÍ THƯ")
    sheet.cell(row=total_row + 7, column=2, value="Lê Văn Lập")
    sheet.cell(row=total_row + 7, column=9, value="Nguyễn Văn Thành 1")
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def upload(client, content, **data):
    file = SimpleUploadedFile("so-danh-sach.xlsx", content, content_type=member_excel.XLSX_CONTENT_TYPE)
    return client.post(reverse("cells:member_import"), {"file": file, **data})


def confirm(client, response):
    preview = response.context["preview"]
    data = {"token": response.context["token"], "cell": response.context["cell"].pk if response.context["cell"] else ""}
    data.update({f"col-{column.index}": column.detected or "" for column in preview.sheet.columns})
    return client.post(reverse("cells:member_import_confirm"), data)


def imported():
    return Member.objects.filter(full_name__startswith="Nguyễn Văn Thành ")


@pytest.fixture(autouse=True)
def today():
    with time_machine.travel(TODAY, tick=False):
        yield


def test_the_office_list_imports_fifty_members_on_the_first_confirm(client_for, people, tree):
    client = client_for(people.officer)
    audit_before = AuditEntry.objects.count()
    response = upload(client, office_workbook(tree.cell))

    preview = response.context["preview"]
    assert preview.is_valid, [(row.label, row.errors) for row in preview.bad_rows] + preview.problems
    assert preview.sheet.header_row == 7
    headings = {column.heading: column.detected for column in preview.sheet.columns}
    assert headings["Chức vụ Đảng"] == "party_position" and headings["Chức vụ Chính quyền"] == "job_title"
    assert headings["Quê quán"] == "hometown" and headings["Ghi chú"] == "notes"
    assert len(preview.rows) == 50 and len(preview.new_rows) == 50
    skipped = {row.number: row.reason for row in preview.sheet.skipped}
    assert skipped[9] == "Dòng đánh số cột"
    assert skipped[FIRST_MEMBER_ROW + 50] == "Dòng tổng cộng"
    assert {skipped[FIRST_MEMBER_ROW + 50 + k] for k in (2, 3, 4, 7)} == {"Phần ký tên cuối danh sách"}
    page = response.content.decode()
    assert "Dòng tổng cộng: “Tổng số: 50 đảng viên”" in page
    assert "Dự bị (cột Ngày chính thức để trống)." in page
    assert Member.objects.filter(full_name__startswith="Nguyễn Văn Thành").count() == 0  # nothing written yet

    response = confirm(client, response)

    assert response.status_code == 302 and response.url == reverse("cells:member_list")
    assert imported().count() == 50
    assert list(imported().filter(status=Member.Status.PROBATIONARY).values_list("full_name", flat=True)) == [
        f"Nguyễn Văn Thành {PROBATIONARY}"
    ]
    assert set(imported().values_list("organisation_id", flat=True)) == {tree.cell.pk}
    first, fifth = imported().get(party_card_number="70000001"), imported().get(party_card_number="70000005")
    assert first.date_of_birth == datetime.date(1980, 2, 2) and first.hometown == "Xã Gio Linh 1, Quảng Trị"
    assert first.admission_decision_date == datetime.date(2005, 5, 19)
    assert first.full_membership_date == datetime.date(2006, 5, 19) and first.job_title == "Chuyên viên"
    assert fifth.notes == "Chuyển đến từ Đảng bộ huyện"
    assert imported().get(party_card_number="70000002").date_of_birth == datetime.date(1980, 3, 3)  # text date
    secretary = Position.objects.get(organisation=tree.cell, kind=Position.Kind.SECRETARY, end__isnull=True)
    assert secretary.member == first and secretary.start == datetime.date(2027, 1, 3)
    assert Position.objects.filter(member__in=imported(), end__isnull=True).count() == 3  # BT, PBT, CUV
    actions = list(AuditEntry.objects.filter(pk__gt=0).order_by("pk").values_list("action", flat=True))[audit_before:]
    assert actions.count("cells.member.create") == 50 and actions.count("cells.position.create") == 3


def test_three_bad_rows_are_named_by_stt_and_name_and_nothing_is_written(client_for, people, tree):
    def spoil(lines):
        lines[11][2] = "31/02/1980"  # STT 12
        lines[19][7] = lines[20][7]  # STT 20 repeats the card of STT 21
        lines[33][3] = "Khác"  # STT 34

    client = client_for(people.officer)
    members_before, audit_before = Member.objects.count(), AuditEntry.objects.count()
    response = upload(client, office_workbook(tree.cell, edit=spoil))

    preview = response.context["preview"]
    assert not preview.is_valid
    labels = [row.label for row in preview.bad_rows]
    assert labels == [
        f"STT 12 – Nguyễn Văn Thành 12 (dòng {FIRST_MEMBER_ROW + 11} trong Excel)",
        f"STT 21 – Nguyễn Văn Thành 21 (dòng {FIRST_MEMBER_ROW + 20} trong Excel)",
        f"STT 34 – Nguyễn Văn Thành 34 (dòng {FIRST_MEMBER_ROW + 33} trong Excel)",
    ]
    assert preview.bad_rows[1].errors == ["Số thẻ đảng viên 70000021 trùng với STT 20."]
    page = response.content.decode()
    assert "3 / 50 dòng có lỗi" in page and labels[0] in page
    assert f'action="{reverse("cells:member_import_confirm")}"' not in page
    # Forcing the confirmation anyway writes nothing.
    response = confirm(client, response)
    assert response.status_code == 200
    assert Member.objects.count() == members_before and AuditEntry.objects.count() == audit_before
    assert not Position.objects.filter(member__full_name__startswith="Nguyễn Văn Thành").exists()


def test_importing_the_same_file_again_changes_nothing(client_for, people, tree):
    client = client_for(people.officer)
    content = office_workbook(tree.cell)
    confirm(client, upload(client, content))
    stamps = dict(imported().values_list("pk", "updated_at"))
    audit_before, positions_before = AuditEntry.objects.count(), Position.objects.count()

    with time_machine.travel(TODAY + datetime.timedelta(hours=1), tick=False):
        response = upload(client, content)
        preview = response.context["preview"]
        assert preview.is_valid and not preview.has_writes
        assert len(preview.unchanged_rows) == 50
        page = response.content.decode()
        assert "Tệp không có gì mới" in page and f'action="{reverse("cells:member_import_confirm")}"' not in page
        confirm(client, response)  # even when posted, an unchanged file writes nothing

    assert dict(imported().values_list("pk", "updated_at")) == stamps
    assert AuditEntry.objects.count() == audit_before and Position.objects.count() == positions_before


def test_a_changed_phone_shows_as_a_difference_before_it_is_written(client_for, people, tree):
    client = client_for(people.officer)
    confirm(client, upload(client, office_workbook(tree.cell)))
    seventh = imported().get(party_card_number="70000007")
    Member.objects.filter(pk=seventh.pk).update(phone="0912000007")

    def with_phone(lines):
        for line in lines:
            line.append("0912000007" if line[0] == 7 else None)
        lines[6][-1] = "0987 654 321"

    def workbook():
        content = office_workbook(tree.cell, edit=with_phone)
        book = openpyxl.load_workbook(io.BytesIO(content))
        book.active.cell(row=7, column=13, value="Số điện thoại")
        buffer = io.BytesIO()
        book.save(buffer)
        return buffer.getvalue()

    response = upload(client, workbook())
    preview = response.context["preview"]
    assert preview.is_valid
    assert [row.display["stt"] for row in preview.changed_rows] == ["7"]
    changes = [(c.label, c.before, c.after) for c in preview.changed_rows[0].changes]
    assert changes == [("Điện thoại", "0912000007", "0987654321")]
    assert "Điện thoại: 0912000007 → 0987654321" in response.content.decode()
    seventh.refresh_from_db()
    assert seventh.phone == "0912000007"  # not before the confirmation

    response = confirm(client, response)

    assert response.status_code == 302
    seventh.refresh_from_db()
    assert seventh.phone == "0987654321"
    entry = AuditEntry.objects.filter(action="cells.member.update").latest("pk")
    assert entry.object_id == str(seventh.pk)
    assert entry.before["phone"] == "0912000007" and entry.after["phone"] == "0987654321"


def test_a_member_without_card_number_is_matched_by_name_and_birth_date(client_for, people, tree):
    def no_cards(lines):
        for line in lines:
            line[7] = None

    client = client_for(people.officer)
    confirm(client, upload(client, office_workbook(tree.cell, members=5, edit=no_cards)))
    assert imported().count() == 5
    preview = upload(client, office_workbook(tree.cell, members=5, edit=no_cards)).context["preview"]
    assert len(preview.unchanged_rows) == 5 and not preview.has_writes


def test_unknown_headings_are_mapped_in_the_preview_and_remembered_for_the_cell(client_for, people, tree):
    """A list of one cell without a "Chi bộ" column, with a heading no list of variants knows."""

    def office_words(lines):
        for line in lines:
            del line[10]  # no "Chi bộ" column: the cell is chosen on upload
            line[7] = f"ĐV-{line[0]:04d}"

    def workbook():
        content = office_workbook(tree.cell, members=3, edit=office_words)
        book = openpyxl.load_workbook(io.BytesIO(content))
        sheet = book.active
        sheet.cell(row=7, column=8, value="Mã hồ sơ Đảng")  # the office's own word for the card number
        sheet.cell(row=7, column=11, value="Ghi chú")
        sheet["L7"].value = None
        buffer = io.BytesIO()
        book.save(buffer)
        return buffer.getvalue()

    client = client_for(people.officer)
    response = upload(client, workbook(), cell=tree.cell.pk)
    preview = response.context["preview"]
    card_column = next(column for column in preview.sheet.columns if column.heading == "Mã hồ sơ Đảng")
    assert card_column.detected is None
    assert preview.rows[0].fields["party_card_number"] is None
    assert "Mã hồ sơ Đảng" in response.content.decode()

    data = {"token": response.context["token"], "cell": tree.cell.pk, f"col-{card_column.index}": "party_card_number"}
    response = client.post(reverse("cells:member_import_columns"), data)
    preview = response.context["preview"]
    assert preview.is_valid and [row.fields["party_card_number"] for row in preview.rows] == [
        "ĐV-0001",
        "ĐV-0002",
        "ĐV-0003",
    ]
    assert not MemberImportMapping.objects.exists()  # remembered on confirmation, not before

    confirm(client, response)
    assert imported().filter(organisation=tree.cell, party_card_number="ĐV-0002").exists()
    assert MemberImportMapping.objects.get(organisation=tree.cell).columns == {"ma ho so dang": "party_card_number"}

    preview = upload(client, workbook(), cell=tree.cell.pk).context["preview"]  # the next import
    assert len(preview.unchanged_rows) == 3


@pytest.mark.parametrize(
    "heading, key",
    [
        ("Ngày vào Đảng", "admission_decision_date"),
        ("Ngày kết nạp", "admission_decision_date"),
        ("NGÀY KẾT NẠP ĐẢNG", "admission_decision_date"),
        ("Số thẻ", "party_card_number"),
        ("Số thẻ ĐV", "party_card_number"),
        ("Số  thẻ đảng  viên", "party_card_number"),
        ("Họ và tên", "full_name"),
        ("Họ tên", "full_name"),
        ("HỌ VÀ TÊN", "full_name"),
        ("ho ten", "full_name"),
        ("Ngày sinh", "date_of_birth"),
        ("Năm sinh", "date_of_birth"),
        ("CCCD", "citizen_id"),
        ("Số CCCD", "citizen_id"),
        ("Số căn cước", "citizen_id"),
        ("Quê quán", "hometown"),
        ("Chức vụ Đảng", "party_position"),
        ("Ghi chú", "notes"),
        ("Ngày chính thức", "full_membership_date"),
        ("Tên cột lạ", None),
    ],
)
def test_usual_headings_and_their_variants(heading, key):
    assert member_excel._header_key(heading) == key


@pytest.mark.parametrize(
    "text, kinds",
    [
        ("Bí thư", ["bi_thu"]),
        ("Phó Bí thư", ["pho_bi_thu"]),
        ("PHÓ BÍ THƯ CHI BỘ", ["pho_bi_thu"]),
        ("Chi ủy viên", ["chi_uy_vien"]),
        ("Bí thư, Tổ trưởng", ["bi_thu", "to_truong"]),
        ("Đảng viên", []),
        ("", []),
    ],
)
def test_party_positions_as_offices_write_them(text, kinds):
    assert member_excel._positions_of(text) == (kinds, [])


def test_a_year_alone_as_birth_date_is_a_clear_error(client_for, people, tree):
    def years(lines):
        lines[0][2] = 1980

    preview = upload(client_for(people.officer), office_workbook(tree.cell, members=2, edit=years)).context["preview"]
    assert preview.bad_rows[0].errors == [
        "Ngày sinh chỉ ghi năm (1980); hãy ghi đủ ngày/tháng/năm như trong hồ sơ đảng viên."
    ]


def test_the_preview_of_the_office_list_reads_a_bounded_number_of_queries(people, tree, django_assert_max_num_queries):
    sheet = member_excel.read_member_sheet(io.BytesIO(office_workbook(tree.cell)), name="a.xlsx")
    with django_assert_max_num_queries(7):
        preview = member_excel.member_import_preview(sheet=sheet, user=people.officer)
    assert preview.is_valid and len(preview.rows) == 50


def test_a_list_without_stt_reads_a_member_whose_notes_look_like_a_date_line(client_for, people, tree):
    """Without an STT column, a member's note "chuyển đến ngày 05 tháng 3 năm 2020" is no signature block."""

    def no_stt(lines):
        for line in lines:
            line[0] = None
        lines[1][11] = "Chuyển đến ngày 05 tháng 3 năm 2020"

    content = office_workbook(tree.cell, members=3, edit=no_stt)
    book = openpyxl.load_workbook(io.BytesIO(content))
    book.active["A7"].value = None
    buffer = io.BytesIO()
    book.save(buffer)
    preview = upload(client_for(people.officer), buffer.getvalue()).context["preview"]
    assert [row.fields["full_name"] for row in preview.rows] == [f"Nguyễn Văn Thành {n}" for n in (1, 2, 3)]
    assert preview.rows[1].fields["notes"] == "Chuyển đến ngày 05 tháng 3 năm 2020"
    assert preview.rows[1].label == f"Dòng {FIRST_MEMBER_ROW + 1} – Nguyễn Văn Thành 2"
