"""lib.forms (the one MonthField, with each form's messages) and lib.uploads."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from lib import uploads
from lib.forms import MonthField

PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def messages(field, value):
    with pytest.raises(ValidationError) as raised:
        field.clean(value)
    return raised.value.messages


def test_the_month_field_of_the_meetings():
    field = MonthField(accept_day=True)
    assert field.clean("02/2026") == datetime.date(2026, 2, 1)
    assert field.clean("15/02/2026") == datetime.date(2026, 2, 1)
    assert messages(field, "13/2026") == ["Nhập tháng theo dạng tháng/năm, ví dụ 02/2026."]
    assert messages(field, "02/1800") == ["Năm phải trong khoảng 1900–2100."]
    assert field.prepare_value(datetime.date(2026, 2, 1)) == "02/2026"


def test_the_month_field_of_the_dues_book():
    from cells.forms import DUES_MONTH_MESSAGES

    field = MonthField(error_messages=DUES_MONTH_MESSAGES)
    assert field.clean("2026-03") == datetime.date(2026, 3, 1)
    assert messages(field, "15/03/2026") == ["Nhập tháng theo dạng tháng/năm, ví dụ 03/2026."]
    assert messages(field, "12/9999") == ["Nhập tháng theo dạng tháng/năm, ví dụ 03/2026."]


def test_an_upload_is_checked_by_its_content():
    allowed = {"pdf": {"pdf"}, "png": {"png"}}
    checks = {"allowed": allowed, "max_bytes": 1000, "too_large": "lớn", "not_allowed": "loại"}
    assert uploads.check_named(SimpleUploadedFile("Biên bản.PDF", PDF), **checks) == "pdf"
    with pytest.raises(ValidationError) as raised:
        uploads.check_named(SimpleUploadedFile("anh.png", PDF), **checks)
    assert raised.value.message_dict["file"] == ["Nội dung tệp không đúng định dạng PNG như tên tệp."]
    with pytest.raises(ValidationError) as raised:
        uploads.check_named(SimpleUploadedFile("a.exe", PDF), **checks)
    assert raised.value.message_dict["file"] == ["loại"]
    with pytest.raises(ValidationError) as raised:
        uploads.check_named(SimpleUploadedFile("a.pdf", PDF * 100), **checks)
    assert raised.value.message_dict["file"] == ["lớn"]
    kinds = {"application/pdf": (".pdf",)}
    assert (
        uploads.check_content(
            SimpleUploadedFile("a.pdf", PDF), kinds=kinds, max_bytes=1000, too_large="lớn", not_allowed="loại"
        )
        == "application/pdf"
    )
    with pytest.raises(ValidationError) as raised:
        uploads.check_content(
            SimpleUploadedFile("a.docx", PDF), kinds=kinds, max_bytes=1000, too_large="lớn", not_allowed="loại"
        )
    assert raised.value.message_dict["file"] == ["Nội dung tệp không đúng với tên tệp (a.docx): tệp thực chất là PDF."]
