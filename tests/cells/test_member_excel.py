"""Member import (upload, preview, confirm) and export of the "Sổ danh sách đảng viên" as .xlsx."""

import datetime
import io
import zipfile
from pathlib import Path

import openpyxl
import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from cells import member_excel
from cells.models import AuditEntry, CellMembership, Member, Organisation

from ..factories import make_member, make_organisation

pytestmark = pytest.mark.django_db

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
FIRST_DATA_ROW = 3  # title row, header row, then data


def member_row(n, *, cell, by_name=False, **overrides):
    """One valid row of the import file; dates alternate between real Excel dates and dd/mm/yyyy text."""
    official = n % 3 != 0
    row = {
        "STT": n,
        "Họ và tên": f"Nguyễn Văn Nhập {n}",
        "Ngày sinh": datetime.datetime(1985, 3, 15) if n % 2 else "15/03/1985",
        "Giới tính": "Nữ" if n % 2 else "Nam",
        "Số CCCD": f"0010850{n:05d}",
        "Điện thoại": f"09120{n:05d}",
        "Email": f"nhap{n}@example.vn",
        "Số thẻ đảng viên": f"NK{n:06d}",
        "Ngày vào Đảng": "19/05/2010" if official else "02/09/2025",
        "Ngày lễ kết nạp": "20/05/2010" if official else "03/09/2025",
        "Ngày chính thức": datetime.datetime(2011, 5, 20) if official else None,
        "Loại": "Chính thức" if official else "Dự bị",
        "Nơi công tác": "Sở Tài chính",
        "Chức vụ": "Chuyên viên",
        "Chi bộ": cell.name if by_name else "",
        "Mã chi bộ": None if by_name else cell.pk,
    }
    row.update(overrides)
    return row


def workbook_bytes(rows, *, headers=HEADERS, title="SỔ DANH SÁCH ĐẢNG VIÊN"):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    if title:
        sheet.append([title])
    sheet.append(headers)
    for row in rows:
        sheet.append([row.get(header) for header in HEADERS])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def xlsx_upload(content, name="danh-sach.xlsx"):
    return SimpleUploadedFile(name, content, content_type=member_excel.XLSX_CONTENT_TYPE)


def upload(client, content, name="danh-sach.xlsx"):
    return client.post(reverse("cells:member_import"), {"file": xlsx_upload(content, name)})


def fifty_rows(tree):
    return [member_row(n, cell=tree.cell if n % 2 else tree.sibling, by_name=n % 4 == 0) for n in range(1, 51)]


def errors_by_row(response):
    return {row.number: row.errors for row in response.context["preview"].bad_rows}


def stashed_files(settings):
    directory = Path(settings.MEDIA_ROOT) / "imports"
    return sorted(directory.glob("*.xlsx")) if directory.exists() else []


# --- the preview ---------------------------------------------------------------------------


def test_preview_reports_exactly_the_bad_rows_and_writes_nothing(client_for, people, tree, settings):
    rows = fifty_rows(tree)
    rows[9]["Họ và tên"] = "  "
    rows[19]["Ngày sinh"] = "31/02/1985"
    rows[29]["Số thẻ đảng viên"] = rows[4]["Số thẻ đảng viên"]
    members_before, audit_before = Member.objects.count(), AuditEntry.objects.count()

    response = upload(client_for(people.officer), workbook_bytes(rows))

    assert response.status_code == 200
    preview = response.context["preview"]
    assert len(preview.rows) == 50 and not preview.is_valid
    errors = errors_by_row(response)
    assert sorted(errors) == [FIRST_DATA_ROW + 9, FIRST_DATA_ROW + 19, FIRST_DATA_ROW + 29]
    assert errors[FIRST_DATA_ROW + 9] == ["Thiếu họ và tên."]
    assert (
        len(errors[FIRST_DATA_ROW + 19]) == 1
        and "Ngày sinh “31/02/1985” không đúng dạng" in errors[FIRST_DATA_ROW + 19][0]
    )
    assert errors[FIRST_DATA_ROW + 29] == ["Số thẻ đảng viên NK000005 trùng với STT 5."]  # the office's numbering
    page = response.content.decode()
    assert "Thiếu họ và tên." in page and "3 / 50 dòng có lỗi" in page
    assert f'action="{reverse("cells:member_import_confirm")}"' not in page  # no confirmation offered
    assert Member.objects.count() == members_before
    assert AuditEntry.objects.count() == audit_before
    assert len(stashed_files(settings)) == 1  # kept for the mapping step only; replaced by the next upload


def test_corrected_file_lands_all_fifty_rows_on_confirm(client_for, people, tree, settings):
    client = client_for(people.officer)
    members_before, audit_before = Member.objects.count(), AuditEntry.objects.count()

    response = upload(client, workbook_bytes(fifty_rows(tree)))
    assert response.context["preview"].is_valid, errors_by_row(response)
    assert "Xác nhận nhập (50 mới, 0 cập nhật)" in response.content.decode()
    assert Member.objects.count() == members_before  # still nothing written
    assert len(stashed_files(settings)) == 1

    token = response.context["token"]
    response = client.post(reverse("cells:member_import_confirm"), {"token": token})

    assert response.status_code == 302 and response.url == reverse("cells:member_list")
    again = client.post(reverse("cells:member_import_confirm"), {"token": token})  # a double submit imports once
    assert again.status_code == 302 and again.url == reverse("cells:member_import")
    assert Member.objects.count() == members_before + 50
    imported = Member.objects.filter(full_name__startswith="Nguyễn Văn Nhập ")
    assert imported.count() == 50
    open_memberships = CellMembership.objects.filter(member__in=imported, end__isnull=True)
    assert open_memberships.count() == 50
    assert all(m.organisation_id == m.member.organisation_id for m in open_memberships.select_related("member"))
    new_entries = AuditEntry.objects.order_by("-pk")[:50]
    assert AuditEntry.objects.count() == audit_before + 50
    assert {entry.action for entry in new_entries} == {"cells.member.create"}
    assert {int(entry.object_id) for entry in new_entries} == set(imported.values_list("pk", flat=True))
    first = imported.get(party_card_number="NK000001")
    assert first.organisation == tree.cell and first.date_of_birth == datetime.date(1985, 3, 15)
    assert first.sex == Member.Sex.FEMALE and first.citizen_id == "001085000001"
    assert imported.get(party_card_number="NK000003").status == Member.Status.PROBATIONARY
    assert imported.get(party_card_number="NK000004").organisation == tree.sibling  # found by name
    assert stashed_files(settings) == []
    assert member_excel.SESSION_KEY not in client.session


def test_unknown_and_ambiguous_cells_are_reported(client_for, people, tree):
    make_organisation(parent=tree.tccs, kind=Organisation.Kind.CHI_BO, name="Chi bộ Kế toán")
    rows = [
        member_row(1, cell=tree.cell, **{"Chi bộ": "Chi bộ Không Có Thật", "Mã chi bộ": None}),
        member_row(2, cell=tree.sibling, by_name=True),
        member_row(3, cell=tree.cell, **{"Mã chi bộ": 999999}),
        member_row(4, cell=tree.cell, **{"Chi bộ": "", "Mã chi bộ": None}),
        member_row(5, cell=tree.cell, **{"Chi bộ": "chi bo van phong", "Mã chi bộ": None}),
        member_row(6, cell=tree.cell, **{"Chi bộ": "Chi bộ Kế toán"}),
    ]
    errors = errors_by_row(upload(client_for(people.admin), workbook_bytes(rows)))
    assert errors[3] == ["Không tìm thấy chi bộ “Chi bộ Không Có Thật” trong các chi bộ bạn được quản lý."]
    assert errors[4] == ["Có 2 chi bộ tên “Chi bộ Kế toán”; hãy ghi mã chi bộ."]
    assert errors[5] == ["Không tìm thấy chi bộ mã 999999 trong các chi bộ bạn được quản lý."]
    assert errors[6] == ["Thiếu chi bộ (ghi tên chi bộ hoặc mã chi bộ)."]
    assert 7 not in errors  # names match regardless of case and diacritics
    assert errors[8] == [f"Mã chi bộ {tree.cell.pk} là “Chi bộ Văn phòng”, không khớp tên chi bộ “Chi bộ Kế toán”."]


def test_officer_cannot_import_into_another_tenants_cell(client_for, people, tree):
    rows = [
        member_row(1, cell=tree.other),
        member_row(2, cell=tree.other, by_name=True),
        member_row(3, cell=tree.sibling),
    ]
    content = workbook_bytes(rows)
    errors = errors_by_row(upload(client_for(people.officer), content))
    assert sorted(errors) == [3, 4]
    assert errors[3] == [f"Không tìm thấy chi bộ mã {tree.other.pk} trong các chi bộ bạn được quản lý."]
    assert "Không tìm thấy chi bộ “Chi bộ Công ty Điện lực”" in errors[4][0]
    # The Khối admin manages every cell: the same file is clean for them.
    assert upload(client_for(people.admin), content).context["preview"].is_valid


def test_row_rules_cccd_status_sex_and_date_order(client_for, people, tree):
    make_member(organisation=tree.sibling, citizen_id="001085099999", party_card_number="DB000001")
    rows = [
        member_row(1, cell=tree.cell, **{"Số CCCD": "12345"}),
        member_row(2, cell=tree.cell, **{"Số CCCD": "001085099999"}),
        member_row(3, cell=tree.cell, **{"Số CCCD": member_row(4, cell=tree.cell)["Số CCCD"]}),
        member_row(4, cell=tree.cell),
        member_row(5, cell=tree.cell, **{"Loại": "Lâu năm"}),
        member_row(6, cell=tree.cell, **{"Loại": None}),
        member_row(7, cell=tree.cell, **{"Giới tính": "Khác"}),
        member_row(8, cell=tree.cell, **{"Ngày lễ kết nạp": "01/01/2009"}),
        member_row(9, cell=tree.cell, **{"Loại": "Dự bị", "Ngày chính thức": "20/05/2011"}),
        member_row(10, cell=tree.cell, **{"Số thẻ đảng viên": "DB000001"}),
        member_row(11, cell=tree.cell, **{"Số CCCD": 1085000011, "Điện thoại": 912345678}),  # numbers lost zeros
        member_row(12, cell=tree.cell, **{"Email": "không-phải-email"}),
        member_row(13, cell=tree.cell, **{"Ngày sinh": "01/01/2999"}),
    ]
    preview = upload(client_for(people.officer), workbook_bytes(rows, title=None)).context["preview"]
    errors = {row.number - 1: row.errors for row in preview.rows}  # no title row: data starts on row 2
    assert errors[1] == ["Số CCCD “12345” không hợp lệ: phải gồm đúng 12 chữ số."]
    assert errors[2] == ["Số CCCD 001085099999 đã có trong hệ thống."]
    assert errors[3] == [] and errors[4] == ["Số CCCD 001085000004 trùng với STT 3."]
    assert errors[5] == ["Loại “Lâu năm” không hợp lệ (ghi Chính thức hoặc Dự bị)."]
    assert errors[6] == ["Thiếu loại đảng viên (Chính thức hoặc Dự bị)."]
    assert errors[7] == ["Giới tính “Khác” không hợp lệ (ghi Nam hoặc Nữ)."]
    assert errors[8] == ["Ngày lễ kết nạp không thể trước ngày quyết định kết nạp."]
    assert errors[9] == ["Đảng viên dự bị chưa có ngày công nhận chính thức."]
    assert errors[10] == ["Số thẻ đảng viên DB000001 đã có trong hệ thống."]
    assert errors[11] == []
    assert preview.rows[10].fields["citizen_id"] == "001085000011"
    assert preview.rows[10].fields["phone"] == "0912345678"
    assert len(errors[12]) == 1 and errors[12][0].startswith("Email: ")
    assert "Ngày sinh không thể ở tương lai." in errors[13]


def test_preview_query_count_does_not_grow_with_rows(people, tree, django_assert_max_num_queries):
    content = workbook_bytes(fifty_rows(tree))
    sheet = member_excel.read_member_sheet(io.BytesIO(content), name="a.xlsx")
    # cells, cards and births on file, positions held, holders of the numbers and those visible
    with django_assert_max_num_queries(6):
        preview = member_excel.member_import_preview(sheet=sheet, user=people.officer)
    assert preview.is_valid


def test_headers_match_without_case_or_diacritics_and_without_title_row(client_for, people, tree):
    headers = [h.upper() for h in HEADERS]
    headers[1], headers[11], headers[15] = "ho va ten", "loai dang vien", "Ma chi bo"
    rows = [member_row(n, cell=tree.cell) for n in (1, 2)]
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(headers)
    for row in rows:
        sheet.append([row[h] for h in HEADERS])
    buffer = io.BytesIO()
    workbook.save(buffer)
    preview = upload(client_for(people.officer), buffer.getvalue()).context["preview"]
    assert preview.is_valid and [row.fields["full_name"] for row in preview.rows] == [
        "Nguyễn Văn Nhập 1",
        "Nguyễn Văn Nhập 2",
    ]


# --- rejected files ------------------------------------------------------------------------


def _form_errors(response):
    return response.context["form"].errors["file"]


def test_text_file_renamed_xlsx_is_rejected(client_for, people):
    content = "Họ và tên;Ngày sinh\nNguyễn Văn A;01/01/1980\n".encode()
    response = upload(client_for(people.officer), content)
    assert response.status_code == 200 and "preview" not in response.context
    assert _form_errors(response) == ["Tệp không phải bảng tính Excel .xlsx (có thể chỉ bị đổi tên)."]


def test_other_zip_and_old_xls_and_wrong_extension_are_rejected(client_for, people, tree):
    client = client_for(people.officer)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("word/document.xml", "<w:document/>")
    assert _form_errors(upload(client, buffer.getvalue())) == [
        "Tệp không phải bảng tính Excel .xlsx (có thể chỉ bị đổi tên)."
    ]
    assert "97-2003" in _form_errors(upload(client, b"\xd0\xcf\x11\xe0" + b"\0" * 600))[0]
    good = workbook_bytes([member_row(1, cell=tree.cell)])
    assert _form_errors(upload(client, good, name="danh-sach.csv")) == ["Chỉ nhận tệp Excel có đuôi .xlsx."]


def test_too_large_file_is_rejected(client_for, people, tree, settings):
    settings.MEMBER_IMPORT_MAX_BYTES = 1024
    content = workbook_bytes([member_row(n, cell=tree.cell) for n in range(1, 40)])
    assert len(content) > 1024
    assert "Tệp quá lớn" in _form_errors(upload(client_for(people.officer), content))[0]


def test_file_without_header_or_required_columns_is_rejected(client_for, people, tree):
    client = client_for(people.officer)
    no_header = workbook_bytes([member_row(1, cell=tree.cell)], headers=["a"] * len(HEADERS))
    assert _form_errors(upload(client, no_header)) == ["Không tìm thấy dòng tiêu đề có cột “Họ và tên”."]
    no_cell = workbook_bytes([member_row(1, cell=tree.cell)], headers=HEADERS[:14])
    response = upload(client, no_cell)
    assert response.context["preview"].problems == [
        "Thiếu cột: Chi bộ hoặc Mã chi bộ. Hãy chọn chi bộ của danh sách ở ô “Chi bộ” rồi tải lên lại."
    ]
    assert f'action="{reverse("cells:member_import_confirm")}"' not in response.content.decode()
    assert _form_errors(upload(client, workbook_bytes([]))) == ["Tệp không có dòng đảng viên nào dưới dòng tiêu đề."]


# --- confirmation --------------------------------------------------------------------------


def test_confirm_validates_again_and_writes_nothing_if_a_row_went_bad(client_for, people, tree):
    client = client_for(people.officer)
    response = upload(client, workbook_bytes([member_row(n, cell=tree.cell) for n in range(1, 6)]))
    assert response.context["preview"].is_valid
    make_member(organisation=tree.sibling, party_card_number="NK000005")  # someone got there first
    members_before = Member.objects.count()

    response = client.post(reverse("cells:member_import_confirm"), {"token": response.context["token"]})

    assert response.status_code == 200
    assert Member.objects.count() == members_before
    assert "Số thẻ đảng viên NK000005 đã có trong hệ thống." in response.content.decode()
    assert f'action="{reverse("cells:member_import_confirm")}"' not in response.content.decode()


def test_confirm_with_unknown_token_writes_nothing(client_for, people, tree):
    client = client_for(people.officer)
    upload(client, workbook_bytes([member_row(1, cell=tree.cell)]))
    members_before = Member.objects.count()
    response = client.post(reverse("cells:member_import_confirm"), {"token": "../../etc/passwd"})
    assert response.status_code == 302 and response.url == reverse("cells:member_import")
    assert Member.objects.count() == members_before


def test_commit_is_all_or_nothing(people, tree):
    sheet = member_excel.read_member_sheet(
        io.BytesIO(workbook_bytes([member_row(n, cell=tree.cell) for n in range(1, 4)])), name="a.xlsx"
    )
    preview = member_excel.member_import_preview(sheet=sheet, user=people.officer)
    assert preview.is_valid
    make_member(organisation=tree.sibling, party_card_number="NK000003")  # the last row now collides
    members_before, audit_before = Member.objects.count(), AuditEntry.objects.count()

    with pytest.raises(ValidationError, match=r"STT 3 – Nguyễn Văn Nhập 3 \(dòng 5 trong Excel\)"):
        member_excel.member_import_commit(rows=preview.rows, by=people.officer)

    assert Member.objects.count() == members_before and AuditEntry.objects.count() == audit_before
    assert not Member.objects.filter(full_name="Nguyễn Văn Nhập 1").exists()


def test_commit_refuses_a_preview_with_bad_rows(people, tree):
    rows = [member_row(1, cell=tree.cell, **{"Họ và tên": ""}), member_row(2, cell=tree.cell)]
    sheet = member_excel.read_member_sheet(io.BytesIO(workbook_bytes(rows)), name="a.xlsx")
    preview = member_excel.member_import_preview(sheet=sheet, user=people.officer)
    members_before = Member.objects.count()
    with pytest.raises(ValidationError):
        member_excel.member_import_commit(rows=preview.rows, by=people.officer)
    assert Member.objects.count() == members_before


# --- access --------------------------------------------------------------------------------


def test_anonymous_user_is_redirected_to_login(client):
    for method, url in [
        ("get", reverse("cells:member_import")),
        ("post", reverse("cells:member_import")),
        ("post", reverse("cells:member_import_confirm")),
        ("get", reverse("cells:member_export")),
    ]:
        response = getattr(client, method)(url)
        assert response.status_code == 302, url
        assert response.url.startswith(reverse("login")), url


@pytest.mark.parametrize("reader", ["viewer", "secretary", "clerk", "member", "other_secretary"])
def test_non_managers_get_403_on_import(client_for, people, tree, reader):
    client = client_for(getattr(people, reader))
    assert client.get(reverse("cells:member_import")).status_code == 403
    content = workbook_bytes([member_row(1, cell=tree.cell)])
    assert client.post(reverse("cells:member_import"), {"file": xlsx_upload(content)}).status_code == 403
    assert client.post(reverse("cells:member_import_confirm"), {"token": "x"}).status_code == 403


@pytest.mark.parametrize("manager", ["admin", "officer"])
def test_managers_see_the_import_page_and_buttons(client_for, people, manager):
    client = client_for(getattr(people, manager))
    assert client.get(reverse("cells:member_import")).status_code == 200
    page = client.get(reverse("cells:member_list")).content.decode()
    assert reverse("cells:member_import") in page and reverse("cells:member_export") in page


def test_readers_see_export_but_not_import_button(client_for, people):
    page = client_for(people.secretary).get(reverse("cells:member_list")).content.decode()
    assert reverse("cells:member_export") in page and reverse("cells:member_import") not in page


def test_member_gets_403_on_export(client_for, people):
    assert client_for(people.member).get(reverse("cells:member_export")).status_code == 403


# --- export --------------------------------------------------------------------------------


def _sheet(response):
    assert response.status_code == 200
    assert response["Content-Type"] == member_excel.XLSX_CONTENT_TYPE
    assert response["Content-Disposition"].startswith('attachment; filename="so-danh-sach-dang-vien-')
    return openpyxl.load_workbook(io.BytesIO(response.content)).active


def test_export_contents(client_for, people, tree):
    make_member(
        organisation=tree.cell,
        full_name="Đỗ Thị Dự Bị",
        status=Member.Status.PROBATIONARY,
        date_of_birth=datetime.date(1995, 2, 5),
        sex=Member.Sex.FEMALE,
        citizen_id="001195000123",
        admission_decision_date=datetime.date(2025, 9, 2),
        admission_ceremony_date=datetime.date(2025, 9, 3),
    )
    sheet = _sheet(client_for(people.officer).get(reverse("cells:member_export")))

    assert sheet["A1"].value == "SỔ DANH SÁCH ĐẢNG VIÊN"
    assert [cell.value for cell in sheet[3]] == [*HEADERS[:14], "Quê quán", "Ghi chú", *HEADERS[14:]]
    assert all(cell.font.bold for cell in sheet[3])
    assert sheet.column_dimensions["B"].width == 28
    rows = {row[1]: row for row in sheet.iter_rows(min_row=4, values_only=True)}
    assert set(rows) == {"Trần Thị Bí Thư", "Lê Văn Đảng Viên", "Phạm Văn Kế Toán", "Đỗ Thị Dự Bị"}  # not other tenant
    probationary = rows["Đỗ Thị Dự Bị"]
    assert probationary[2] == datetime.datetime(1995, 2, 5)
    assert probationary[3] == "Nữ" and probationary[4] == "001195000123"
    assert probationary[11] == "Dự bị" and probationary[16] == "Chi bộ Văn phòng" and probationary[17] == tree.cell.pk
    assert rows["Lê Văn Đảng Viên"][11] == "Chính thức"
    date_cell = next(row[2] for row in sheet.iter_rows(min_row=4) if row[1].value == "Đỗ Thị Dự Bị")
    assert date_cell.number_format == "DD/MM/YYYY" and date_cell.is_date
    assert [row[0] for row in sheet.iter_rows(min_row=4, values_only=True)] == [1, 2, 3, 4]


def test_export_uses_the_list_filters_and_the_readers_scope(client_for, people, tree):
    sheet = _sheet(client_for(people.admin).get(reverse("cells:member_export"), {"cell": tree.sibling.pk}))
    assert [row[1] for row in sheet.iter_rows(min_row=4, values_only=True)] == ["Phạm Văn Kế Toán"]
    sheet = _sheet(client_for(people.secretary).get(reverse("cells:member_export")))
    assert {row[1] for row in sheet.iter_rows(min_row=4, values_only=True)} == {"Trần Thị Bí Thư", "Lê Văn Đảng Viên"}


def test_export_then_import_round_trips(client_for, people, tree):
    make_member(
        organisation=tree.sibling,
        full_name="Vũ Thị Khứ Hồi",
        status=Member.Status.PROBATIONARY,
        date_of_birth=datetime.date(1999, 12, 31),
        sex=Member.Sex.FEMALE,
        citizen_id="001199000001",
        phone="0912000001",
        email="khuhoi@example.vn",
        workplace="Phòng Kế toán",
        job_title="Kế toán viên",
        admission_decision_date=datetime.date(2025, 9, 2),
        admission_ceremony_date=datetime.date(2025, 9, 3),
    )
    client = client_for(people.officer)
    exported = client.get(reverse("cells:member_export"), {"cell": tree.sibling.pk}).content
    fields = [*member_excel.FIELD_KEYS, "organisation_id"]
    before = sorted(Member.objects.filter(organisation=tree.sibling).values_list(*fields))
    assert len(before) == 2
    Member.objects.filter(organisation=tree.sibling).delete()

    response = client.post(reverse("cells:member_import"), {"file": xlsx_upload(exported)})
    assert response.context["preview"].is_valid, errors_by_row(response)
    client.post(reverse("cells:member_import_confirm"), {"token": response.context["token"]})

    assert sorted(Member.objects.filter(organisation=tree.sibling).values_list(*fields)) == before


def test_export_query_count_does_not_grow_with_rows(client_for, people, tree, django_assert_max_num_queries):
    for n in range(30):
        make_member(organisation=tree.cell if n % 2 else tree.other)
    client = client_for(people.admin)
    # 6, the export's audit row (its savepoint and insert), and the second factor's device (the admin has one)
    with django_assert_max_num_queries(9):
        sheet = _sheet(client.get(reverse("cells:member_export")))
    assert sheet.max_row == 3 + 34


def _with_inflated_shared_strings(content: bytes, megabytes: int) -> bytes:
    """The same workbook with a shared-string table that unpacks to ``megabytes`` MB (a few hundred KB packed)."""
    filler = "<si><t>" + "A" * 1000 + "</t></si>"
    count = megabytes * 1024 * 1024 // len(filler)
    table = (
        f'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="{count}" '
        f'uniqueCount="{count}">' + filler * count + "</sst>"
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(content)) as source, zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            data = source.read(item)
            if item.filename == "[Content_Types].xml":
                data = data.replace(
                    b"</Types>",
                    b'<Override PartName="/xl/sharedStrings.xml" ContentType="application/'
                    b'vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>',
                )
            target.writestr(item, data)
        target.writestr("xl/sharedStrings.xml", table, compresslevel=9)
    return buffer.getvalue()


@pytest.mark.parametrize("megabytes", [20, 93])
def test_a_file_whose_parts_unpack_to_far_more_than_a_member_list_is_refused_before_it_is_opened(
    client_for, people, tree, monkeypatch, settings, megabytes
):
    """A 93 MB shared-string table in a file of a few hundred KB cost 36 s of CPU and 550 MB to open."""
    content = _with_inflated_shared_strings(workbook_bytes([member_row(1, cell=tree.cell)]), megabytes)
    assert len(content) < settings.MEMBER_IMPORT_MAX_BYTES

    def never_opened(*args, **kwargs):
        raise AssertionError("openpyxl must not open the file")

    monkeypatch.setattr(member_excel.openpyxl, "load_workbook", never_opened)
    errors = _form_errors(upload(client_for(people.officer), content))
    assert len(errors) == 1 and ("quá nhiều dữ liệu" in errors[0] or "nén bất thường" in errors[0]), errors


def test_a_large_but_ordinary_member_list_is_still_read(client_for, people, tree):
    rows = [
        member_row(n, cell=tree.cell, **{"Nơi công tác": f"Sở Tài chính tỉnh Quảng Trị, phòng {n}"})
        for n in range(1, 1501)
    ]
    content = workbook_bytes(rows)
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        assert max(info.file_size for info in archive.infolist()) > 1024 * 1024  # the ratio rule applies to it
    response = upload(client_for(people.officer), content)
    assert response.context["preview"].is_valid, _form_errors(response)
