"""Issue #17 item 1: the meeting's documents on the member's phone, their read receipts, the secretary's
"Đã xem x/y" and reminder, and confidential documents shown view-only with the reader's watermark."""

import datetime
import io
import re
import zoneinfo
from pathlib import Path

import pytest
import time_machine
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from pypdf import PdfReader, PdfWriter

from cells.models import AuditEntry, Member, Notification
from meetings import selectors, services
from meetings.models import Attendance, DocumentRead, DocumentReminder, MeetingDocument, Resolution
from tests.factories import make_member

from .conftest import plan

pytestmark = pytest.mark.django_db

HCM = zoneinfo.ZoneInfo("Asia/Ho_Chi_Minh")
# 08:05 in Hà Nội on Thursday 03/12/2026 (01:05 UTC): the notice goes out, the meeting is on 06/12.
NOW = datetime.datetime(2026, 12, 3, 8, 5, tzinfo=HCM)
DOWNLOAD_ATTRIBUTE = re.compile(r"<a\b[^>]*\sdownload(\s|=|>)", re.IGNORECASE)


def pdf_bytes(pages: int = 2) -> bytes:
    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=595, height=842)
    output = io.BytesIO()
    writer.write(output)
    return output.getvalue()


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def five(tree, people):
    """Cell A with five members (the secretary and the member among them), each with an e-mail address."""
    extra = [
        make_member(organisation=tree.cell, full_name=name, email=f"dv{n}@example.vn")
        for n, name in enumerate(["Đào Văn Ba", "Đinh Thị Bốn", "Vũ Văn Năm"], start=3)
    ]
    for n, key in enumerate(("secretary", "member"), start=1):
        Member.objects.filter(pk=people.members[key].pk).update(email=f"dv{n}@example.vn")
    return [people.members["secretary"], people.members["member"], *extra]


@pytest.fixture
def noticed(clock, tree, people, five):
    """This month's meeting, noticed, with two documents and a draft conclusion."""
    meeting = plan(tree.cell, days=3, chair=five[0], clerk=five[1], by=people.secretary)
    meeting = services.meeting_publish(meeting=meeting, by=people.secretary)
    for name in ("bao-cao.pdf", "du-thao-nghi-quyet.pdf"):
        services.meeting_document_add(
            meeting=meeting, file=SimpleUploadedFile(name, pdf_bytes(1)), title=name, by=people.secretary
        )
    services.resolution_set(
        meeting=meeting,
        kind=Resolution.Kind.CONCLUSION,
        text="Dự thảo: hoàn thành kế hoạch quý IV.",
        by=people.secretary,
    )
    return meeting


def token_of(meeting, member) -> str:
    return services.rsvp_token(meeting=meeting, member=member)


def doc_url(meeting, member, document) -> str:
    return reverse("meetings:rsvp_document", args=[token_of(meeting, member), document.pk])


# --- the member's page and the receipt ------------------------------------------------------


def test_the_link_lists_the_documents_and_the_draft_conclusion_and_opens_a_document_with_one_receipt(
    client, clock, noticed, five
):
    member = five[1]
    first, second = noticed.documents.order_by("pk")
    page = client.get(reverse("meetings:rsvp", args=[token_of(noticed, member)]))
    html = page.content.decode()
    assert page.status_code == 200
    assert "bao-cao.pdf" in html and "du-thao-nghi-quyet.pdf" in html
    assert doc_url(noticed, member, first) in html and doc_url(noticed, member, second) in html
    assert "Dự thảo kết luận" in html and "hoàn thành kế hoạch quý IV" in html

    response = client.get(doc_url(noticed, member, first))
    assert response.status_code == 200
    assert b"".join(response.streaming_content).startswith(b"%PDF")
    receipt = DocumentRead.objects.get()
    assert (receipt.document, receipt.member_id, receipt.count) == (first, member.pk, 1)
    assert receipt.first_read_at == receipt.last_read_at == NOW

    clock.shift(datetime.timedelta(hours=2))
    assert client.get(doc_url(noticed, member, first)).status_code == 200
    receipt = DocumentRead.objects.get()  # still one row: the count goes up
    assert receipt.count == 2
    assert receipt.first_read_at == NOW and receipt.last_read_at == NOW + datetime.timedelta(hours=2)
    assert "Đã xem" in client.get(reverse("meetings:rsvp", args=[token_of(noticed, member)])).content.decode()


def test_another_members_token_cannot_open_the_document(client, clock, tree, people, noticed):
    """A member of another cell, with a link to their own meeting: A's document is not found through it."""
    outsider = people.members["other"]
    theirs = services.meeting_publish(meeting=plan(tree.other, days=3, by=people.other_secretary))
    document = noticed.documents.first()
    assert client.get(doc_url(theirs, outsider, document)).status_code == 404
    # A link forged for a member of A (the signature no longer matches) is refused as invalid.
    forged = token_of(noticed, outsider)[:-3] + "abc"
    assert client.get(reverse("meetings:rsvp_document", args=[forged, document.pk])).status_code == 400
    assert not DocumentRead.objects.exists()


def test_a_document_of_another_meeting_through_this_link_is_not_found(client, clock, tree, people, noticed, five):
    chi_uy = services.meeting_publish(
        meeting=plan(tree.cell, days=2, kind="chi_uy", chair=five[0], clerk=five[1], by=people.secretary)
    )
    elsewhere = services.meeting_document_add(
        meeting=chi_uy, file=SimpleUploadedFile("chi-uy.pdf", pdf_bytes(1)), by=people.secretary
    )
    assert client.get(doc_url(noticed, five[1], elsewhere)).status_code == 404
    assert not DocumentRead.objects.exists()


def test_a_logged_in_member_opening_it_from_the_meeting_page_gets_a_receipt(client_for, clock, people, noticed):
    document = noticed.documents.first()
    client = client_for(people.member)
    assert client.get(reverse("meetings:document_download", args=[noticed.pk, document.pk])).status_code == 200
    assert DocumentRead.objects.get().member == people.members["member"]
    # The Khối admin (no member record, not on the list) reads it without a receipt.
    client_for(people.admin).get(reverse("meetings:document_download", args=[noticed.pk, document.pk]))
    assert DocumentRead.objects.count() == 1


# --- the secretary's counts and reminder -----------------------------------------------------


def test_the_secretary_sees_three_of_five_read_and_who_has_not(client_for, clock, people, noticed, five):
    first, second = noticed.documents.order_by("pk")
    for member in five[:3]:
        services.document_read_record(document=first, member=member, reader=member.full_name, via="link")
    services.document_read_record(document=second, member=five[0], reader=five[0].full_name, via="link")
    rows = selectors.document_reads(noticed)
    assert [(row.read, row.total) for row in rows] == [(3, 5), (1, 5)]
    assert sorted(rows[0].unread) == sorted(["Đinh Thị Bốn", "Vũ Văn Năm"])  # by name, as the database collates
    html = client_for(people.secretary).get(reverse("meetings:detail", args=[noticed.pk])).content.decode()
    assert "Đã xem 3/5" in html and "Đã xem 1/5" in html
    assert "Vũ Văn Năm" in html and "Nhắc người chưa xem tài liệu" in html
    # A plain member sees the documents, not the others' receipts nor the reminder.
    html = client_for(people.member).get(reverse("meetings:detail", args=[noticed.pk])).content.decode()
    assert "bao-cao.pdf" in html and "Đã xem 3/5" not in html and "Nhắc người chưa xem" not in html


def test_the_reminder_goes_only_to_those_who_have_not_read_everything_once_a_day(
    client_for, clock, people, noticed, five, django_capture_on_commit_callbacks
):
    first, second = noticed.documents.order_by("pk")
    for member in five[:2]:  # the secretary and the member read both
        for document in (first, second):
            services.document_read_record(document=document, member=member, reader=member.full_name, via="link")
    services.document_read_record(document=first, member=five[2], reader=five[2].full_name, via="link")
    Member.objects.filter(pk=five[4].pk).update(optional_reminder_email=False)  # inbox only
    client = client_for(people.secretary)
    url = reverse("meetings:remind_documents", args=[noticed.pk])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, follow=True)
    assert "Đã nhắc 3 đảng viên chưa xem tài liệu." in response.content.decode()
    sent = Notification.objects.filter(kind="meetings.documents.reminder")
    assert {n.member_id for n in sent.all()} == {five[2].pk, five[3].pk, five[4].pk}
    third = sent.get(member=five[2])
    assert "du-thao-nghi-quyet.pdf" in third.body and "bao-cao.pdf" not in third.body  # only what is unread
    assert reverse("meetings:rsvp", args=[token_of(noticed, five[2])]) in third.body
    assert sorted(m.to[0] for m in mail.outbox) == ["dv3@example.vn", "dv4@example.vn"]  # dv5 opted out
    assert DocumentReminder.objects.get().recipients == 3

    # Pressed again the same day (even late in the evening): refused, nobody gets a second message.
    clock.move_to(datetime.datetime(2026, 12, 3, 23, 50, tzinfo=HCM))
    client = client_for(people.secretary)  # the session of the morning has ended (8 hours)
    response = client.post(url, follow=True)
    assert "Hôm nay đã nhắc lúc 08:05" in response.content.decode()
    assert sent.count() == 3
    # The next day it may remind again, and only whoever has still not read everything.
    clock.move_to(datetime.datetime(2026, 12, 4, 7, 0, tzinfo=HCM))
    services.document_read_record(document=second, member=five[2], reader=five[2].full_name, via="link")
    assert services.documents_remind(meeting=noticed, by=people.secretary) == 2
    assert sent.count() == 5 and not sent.filter(member=five[2], created_at__date__gte="2026-12-04").exists()
    assert AuditEntry.objects.filter(action="meetings.document.remind").count() == 2


def test_nobody_left_to_remind_sends_nothing(clock, people, noticed, five):
    for member in five:
        for document in noticed.documents.all():
            services.document_read_record(document=document, member=member, reader=member.full_name, via="web")
    assert services.documents_remind(meeting=noticed, by=people.secretary) == 0
    assert not Notification.objects.filter(kind="meetings.documents.reminder").exists()
    assert not DocumentReminder.objects.exists()


# --- confidential documents ---------------------------------------------------------------------


def _confidential(client_for, people, meeting, name="mat.pdf", data=None):
    client = client_for(people.secretary)
    return client.post(
        reverse("meetings:document_add", args=[meeting.pk]),
        {"title": "Tài liệu mật", "file": SimpleUploadedFile(name, data or pdf_bytes(2)), "confidential": "on"},
    )


def test_a_confidential_pdf_is_inline_uncached_and_carries_the_readers_name_and_time_on_every_page(
    client, client_for, clock, people, noticed, five
):
    assert _confidential(client_for, people, noticed).status_code == 302
    document = MeetingDocument.objects.get(confidential=True)
    member = five[3]
    response = client.get(doc_url(noticed, member, document))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("inline")
    assert "no-store" in response["Cache-Control"].split(", ")  # "private, no-store": cells.middleware
    pages = PdfReader(io.BytesIO(response.content)).pages
    assert len(pages) == 2
    for page in pages:
        text = page.extract_text()
        assert "Đinh Thị Bốn" in text and "03/12/2026 08:05" in text
    view = AuditEntry.objects.get(action="meetings.document.view")
    assert view.object_id == str(document.pk)
    assert (view.after["member"], view.after["reader"], view.after["via"]) == (member.pk, "Đinh Thị Bốn", "link")
    assert DocumentRead.objects.get(document=document).member == member

    # From the meeting page, logged in: the same, with the viewer's own name, and logged again.
    clock.shift(datetime.timedelta(minutes=10))
    response = client_for(people.member).get(reverse("meetings:document_download", args=[noticed.pk, document.pk]))
    assert response["Content-Disposition"].startswith("inline")
    assert "no-store" in response["Cache-Control"].split(", ")  # "private, no-store" once logged in
    text = PdfReader(io.BytesIO(response.content)).pages[0].extract_text()
    assert "Lê Văn Đảng Viên" in text and "03/12/2026 08:15" in text
    assert AuditEntry.objects.filter(action="meetings.document.view").count() == 2

    # No page offers it as a download.
    for html in (
        client.get(reverse("meetings:rsvp", args=[token_of(noticed, member)])).content.decode(),
        client_for(people.secretary).get(reverse("meetings:detail", args=[noticed.pk])).content.decode(),
    ):
        assert "Mật — chỉ xem" in html
        assert not DOWNLOAD_ATTRIBUTE.search(html)
        assert "Tải về" not in html


def test_a_confidential_upload_that_is_not_a_pdf_is_refused_next_to_the_file_and_nothing_is_saved(
    client_for, clock, people, noticed, settings
):
    before = set(Path(settings.MEDIA_ROOT).rglob("*"))
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
    response = _confidential(client_for, people, noticed, name="anh.png", data=png)
    assert response.status_code == 200
    assert "Tài liệu mật chỉ nhận tệp PDF" in response.context["form"].errors["file"][0]
    # A PDF pypdf cannot read (no page to stamp) is refused too.
    response = _confidential(client_for, people, noticed, name="hong.pdf", data=b"%PDF-1.4\n%%EOF\n")
    assert "Không đọc được tệp PDF" in response.context["form"].errors["file"][0]
    assert not MeetingDocument.objects.filter(confidential=True).exists()
    assert set(Path(settings.MEDIA_ROOT).rglob("*")) == before
    assert AuditEntry.objects.filter(action="meetings.document.create").count() == 2  # the fixture's two


# --- the meeting page's queries ---------------------------------------------------------------------


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def test_the_meeting_page_query_count_does_not_grow_with_documents_members_and_receipts(
    client_for, clock, tree, people, noticed, five
):
    client = client_for(people.secretary)
    url = reverse("meetings:detail", args=[noticed.pk])
    _queries(client, url)  # the secretary's first view records that the notice was opened: one UPDATE, once
    few = _queries(client, url)
    more = [make_member(organisation=tree.cell, full_name=f"Thành Viên {n}") for n in range(6)]
    Attendance.objects.bulk_create([Attendance(meeting=noticed, member=member) for member in more])  # on the list
    for n in range(3):
        services.meeting_document_add(meeting=noticed, file=SimpleUploadedFile(f"them-{n}.pdf", pdf_bytes(1)))
    for member in [*five, *more]:
        for document in noticed.documents.all()[:3]:
            services.document_read_record(document=document, member=member, reader=member.full_name, via="web")
    assert _queries(client, url) == few
