"""Issue #17 item 5: the upper level's materials — published by the Khối or a đảng ủy cơ sở for a month, attached
by a cell to its meeting in one click, read by the members from their link, the meeting page or the home page;
the publisher sees, per cell, whether it was attached and who read it."""

import datetime
import io
import re
import zoneinfo
from pathlib import Path

import pytest
import time_machine
from django.core import mail
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from pypdf import PdfReader, PdfWriter

from cells import services as cell_services
from cells.models import AuditEntry, Notification, Position
from meetings import selectors, services
from meetings.audit import ACTIONS
from meetings.models import DocumentRead, MaterialRead, MeetingDocument, UpperMaterial
from tests.factories import make_member, make_organisation

from .conftest import plan

pytestmark = pytest.mark.django_db

HCM = zoneinfo.ZoneInfo("Asia/Ho_Chi_Minh")
# 08:05 in Hà Nội on Thursday 03/12/2026: the đảng ủy publishes December's material.
NOW = datetime.datetime(2026, 12, 3, 8, 5, tzinfo=HCM)
DECEMBER = datetime.date(2026, 12, 1)
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
def world(clock, tree, people, django_capture_on_commit_callbacks):
    """The TCCS with three cells: A (5 members), B (the sibling, 2 members), C (2 members); A's and B's bí thư
    hold their posts; A and B have their December meeting noticed, C has none."""
    third = make_organisation(parent=tree.tccs, kind="chi_bo", name="Chi bộ Thanh tra", short_code="CB")
    a = [people.members["secretary"], people.members["member"]] + [
        make_member(organisation=tree.cell, full_name=name, email=f"a{n}@example.vn")
        for n, name in enumerate(["Đào Văn Ba", "Đinh Thị Bốn", "Vũ Văn Năm"], start=3)
    ]
    cell_services.member_update(member=a[0], email="bithu.a@example.vn")
    b = [people.members["sibling"], make_member(organisation=tree.sibling, full_name="Mai Thị Hai")]
    cell_services.member_update(member=b[0], email="bithu.b@example.vn")
    c = [make_member(organisation=third, full_name=name) for name in ("Lý Văn Một", "Tạ Thị Hai")]
    for member, cell in ((a[0], tree.cell), (b[0], tree.sibling)):
        cell_services.position_assign(
            member=member, organisation=cell, kind=Position.Kind.SECRETARY, start=datetime.date(2026, 1, 1)
        )
    meetings = {}
    for key, cell in (("a", tree.cell), ("b", tree.sibling)):
        meetings[key] = services.meeting_publish(meeting=plan(cell, days=5), by=people.secretary)
    mail.outbox.clear()
    return type("World", (), {"third": third, "a": a, "b": b, "c": c, "meetings": meetings, "tree": tree})


def publish(tree, people, *, confidential=False, whole_subtree=True, cells=(), month=DECEMBER, title=None):
    return services.material_publish(
        publisher=tree.tccs,
        title=title or "Tài liệu sinh hoạt chi bộ tháng 12/2026",
        kind=UpperMaterial.Kind.MONTHLY,
        month=month,
        file=SimpleUploadedFile("tai-lieu-thang-12.pdf", pdf_bytes(2)),
        confidential=confidential,
        whole_subtree=whole_subtree,
        cells=cells,
        by=people.officer,
    )


def token_of(meeting, member) -> str:
    return services.rsvp_token(meeting=meeting, member=member)


# --- publishing -------------------------------------------------------------------------------------


def test_the_officer_publishes_from_the_form_and_each_cells_secretary_hears_of_it(
    client_for, world, people, tree, django_capture_on_commit_callbacks
):
    client = client_for(people.officer)
    url = reverse("meetings:material_publish", args=[tree.tccs.pk])
    assert client.get(url + "?thang=12/2026").status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            url,
            {
                "title": "Tài liệu sinh hoạt chi bộ tháng 12/2026",
                "kind": "monthly",
                "month": "12/2026",
                "file": SimpleUploadedFile("tl.pdf", pdf_bytes(1)),
                "whole_subtree": "on",
            },
        )
    assert response.status_code == 302
    assert response.url == reverse("meetings:materials", args=[tree.tccs.pk]) + "?thang=12/2026"
    material = UpperMaterial.objects.get()
    assert (material.publisher, material.month, material.published_by) == (tree.tccs, DECEMBER, people.officer)
    # Three cells in the audience; two have a bí thư: one inbox row and one e-mail each, linked to the meeting.
    rows = Notification.objects.filter(kind="meetings.material.published").order_by("member__full_name")
    assert [(n.member.full_name, n.url) for n in rows] == [
        ("Phạm Văn Kế Toán", reverse("meetings:detail", args=[world.meetings["b"].pk])),
        ("Trần Thị Bí Thư", reverse("meetings:detail", args=[world.meetings["a"].pk])),
    ]
    assert sorted(m.to[0] for m in mail.outbox) == ["bithu.a@example.vn", "bithu.b@example.vn"]
    assert mail.outbox[0].subject == (
        "Đảng bộ Sở Tài chính gửi tài liệu sinh hoạt tháng 12/2026: Tài liệu sinh hoạt chi bộ tháng 12/2026"
    )
    entry = AuditEntry.objects.get(action="meetings.material.publish")
    assert entry.object_id == str(material.pk) and entry.actor == people.officer
    assert ACTIONS["meetings.material.publish"] == "Ban hành tài liệu cấp trên cho các chi bộ"


def test_a_secretary_who_took_optional_messages_off_email_still_gets_the_inbox_row(
    world, people, tree, django_capture_on_commit_callbacks
):
    cell_services.member_set_reminder_email(member=world.b[0], enabled=False)
    with django_capture_on_commit_callbacks(execute=True):
        publish(tree, people)
    assert Notification.objects.filter(kind="meetings.material.published").count() == 2
    assert [m.to for m in mail.outbox] == [["bithu.a@example.vn"]]


def test_bad_input_is_refused_next_to_the_field_and_nothing_is_written(client_for, world, people, tree, settings):
    client = client_for(people.officer)
    url = reverse("meetings:material_publish", args=[tree.tccs.pk])
    before = set(Path(settings.MEDIA_ROOT).rglob("*"))
    base = {"title": "Chỉ thị", "kind": "directive", "month": "12/2026"}
    # Chosen cells, none chosen.
    response = client.post(url, {**base, "file": SimpleUploadedFile("a.pdf", pdf_bytes(1))})
    assert "Chọn ít nhất một chi bộ nhận" in response.context["form"].errors["cells"][0]
    # A confidential material that is not a PDF.
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
    response = client.post(
        url, {**base, "whole_subtree": "on", "confidential": "on", "file": SimpleUploadedFile("a.png", png)}
    )
    assert "Tài liệu mật chỉ nhận tệp PDF" in response.context["form"].errors["file"][0]
    # Not a month.
    response = client.post(url, {**base, "month": "13/2026", "file": SimpleUploadedFile("a.pdf", pdf_bytes(1))})
    assert response.context["form"].errors["month"] == ["Nhập tháng theo dạng tháng/năm, ví dụ 02/2026."]
    assert not UpperMaterial.objects.exists()
    assert not Notification.objects.filter(kind="meetings.material.published").exists()
    assert set(Path(settings.MEDIA_ROOT).rglob("*")) == before
    # A cell outside the publisher's subtree (the service's own check).
    with pytest.raises(ValidationError) as error:
        publish(tree, people, whole_subtree=False, cells=[tree.other])
    assert "Chỉ chọn được các chi bộ trực thuộc Đảng bộ Sở Tài chính." in error.value.message_dict["cells"]


def test_a_cell_may_not_publish(world, people, tree):
    with pytest.raises(ValidationError):
        services.material_publish(
            publisher=tree.cell,
            title="x",
            kind="monthly",
            month=DECEMBER,
            file=SimpleUploadedFile("a.pdf", pdf_bytes(1)),
        )


# --- attaching and reading -----------------------------------------------------------------------


def test_the_secretary_attaches_the_months_material_in_one_click(client_for, world, people, tree):
    material = publish(tree, people)
    client = client_for(people.secretary)
    meeting = world.meetings["a"]
    page = client.get(reverse("meetings:detail", args=[meeting.pk])).content.decode()
    attach = reverse("meetings:material_attach", args=[meeting.pk, material.pk])
    assert attach in page and "Đính kèm vào buổi này" in page
    response = client.post(attach)
    assert response.status_code == 302
    document = MeetingDocument.objects.get(meeting=meeting)
    assert (document.material, document.title, document.file.name) == (material, material.title, material.file.name)
    # Once: the offer is gone from the page, a second click is refused with a message, nothing doubled.
    page = client.get(reverse("meetings:detail", args=[meeting.pk])).content.decode()
    assert attach not in page and material.title in page
    with pytest.raises(ValidationError):
        services.material_attach(material=material, meeting=meeting, by=people.secretary)
    assert MeetingDocument.objects.filter(meeting=meeting).count() == 1
    assert AuditEntry.objects.filter(action="meetings.material.attach").count() == 1
    assert ACTIONS["meetings.material.attach"] == "Chi bộ đính kèm tài liệu cấp trên vào buổi sinh hoạt"


def test_a_material_for_chosen_cells_reaches_only_them(world, people, tree):
    material = publish(tree, people, whole_subtree=False, cells=[tree.cell])
    assert [row.cell for row in selectors.material_tracking(material=material, today=NOW.date())["rows"]] == [tree.cell]
    assert selectors.materials_to_attach(world.meetings["b"]) == []
    with pytest.raises(ValidationError):
        services.material_attach(material=material, meeting=world.meetings["b"])
    assert services.material_attach(material=material, meeting=world.meetings["a"]).material == material


def _read_as_in_the_issue(client, client_for, world, people, material):
    """A and B attach; in A three of five read (link, meeting page, home page), in B one of two; C reads nothing."""
    docs = {
        key: services.material_attach(material=material, meeting=world.meetings[key], by=people.secretary)
        for key in ("a", "b")
    }
    a_meeting = world.meetings["a"]
    assert client.get(reverse("meetings:rsvp_document", args=[token_of(a_meeting, world.a[2]), docs["a"].pk]))
    member_client = client_for(people.member)
    assert member_client.get(reverse("meetings:document_download", args=[a_meeting.pk, docs["a"].pk]))
    client_for(people.secretary).get(reverse("meetings:material_file", args=[material.pk]))
    b_meeting = world.meetings["b"]
    client.get(reverse("meetings:rsvp_document", args=[token_of(b_meeting, world.b[1]), docs["b"].pk]))
    return docs


def test_the_publisher_sees_two_of_three_cells_attached_and_three_of_five_read_in_cell_a(
    client, client_for, world, people, tree
):
    material = publish(tree, people)
    docs = _read_as_in_the_issue(client, client_for, world, people, material)
    # Opening twice counts one reader.
    client.get(reverse("meetings:rsvp_document", args=[token_of(world.meetings["a"], world.a[2]), docs["a"].pk]))
    assert MaterialRead.objects.get(member=world.a[2]).count == 2
    # The meeting's own receipts agree: the home-page reader has one on A's meeting.
    assert set(DocumentRead.objects.filter(document=docs["a"]).values_list("member__full_name", flat=True)) == {
        "Đào Văn Ba",
        "Lê Văn Đảng Viên",
        "Trần Thị Bí Thư",
    }
    tracking = selectors.material_tracking(material=material, today=NOW.date())
    assert (tracking["cells"], tracking["attached"], tracking["members"], tracking["read"]) == (3, 2, 9, 4)
    by_cell = {row.cell.pk: row for row in tracking["rows"]}
    a, b, c = by_cell[tree.cell.pk], by_cell[tree.sibling.pk], by_cell[world.third.pk]
    assert (len(a.read), a.total, len(b.read), b.total, len(c.read), c.total) == (3, 5, 1, 2, 0, 2)
    assert (a.meetings, b.meetings, c.meetings) == ([world.meetings["a"]], [world.meetings["b"]], [])

    page = client_for(people.officer).get(reverse("meetings:material_detail", args=[material.pk]))
    html = page.content.decode()
    assert '<div class="fs-4 fw-bold" id="count-attached">2/3</div>' in html
    assert '<div class="fs-4 fw-bold" id="count-read">4/9</div>' in html
    assert f'data-cell="{tree.cell.pk}" data-attached="1" data-read="3" data-total="5"' in html
    assert f'data-cell="{world.third.pk}" data-attached="0" data-read="0" data-total="2"' in html
    assert "Chưa đính kèm vào buổi sinh hoạt nào" in html
    # The drill-down to names, for cell A.
    page = client_for(people.officer).get(
        reverse("meetings:material_detail", args=[material.pk]) + f"?chi_bo={tree.cell.pk}"
    )
    selected = page.context["selected"]
    assert selected.read == ["Lê Văn Đảng Viên", "Trần Thị Bí Thư", "Đào Văn Ba"]
    assert selected.unread == ["Vũ Văn Năm", "Đinh Thị Bốn"]
    # The month's list: 2 cells attached, 4 readers.
    page = client_for(people.officer).get(reverse("meetings:materials", args=[tree.tccs.pk]) + "?thang=12/2026")
    [listed] = page.context["materials"]
    assert (listed.attached_cells, listed.readers) == (2, 4)


def test_the_publishers_page_reads_in_a_fixed_number_of_queries(client, client_for, world, people, tree):
    material = publish(tree, people)
    officer = client_for(people.officer)
    url = reverse("meetings:material_detail", args=[material.pk]) + f"?chi_bo={tree.cell.pk}"

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert officer.get(url).status_code == 200
        return len(captured)

    few = queries()
    # The request's own (session, user, roles, second factor…) and five for the page: the material, the
    # audience's cells, the attachments with their meetings, the readings, the memberships.
    assert few <= 11
    _read_as_in_the_issue(client, client_for, world, people, material)
    client_for(people.officer)  # the test client is shared: signed in as the officer again
    for n in range(4):
        cell = make_organisation(parent=tree.tccs, kind="chi_bo", name=f"Chi bộ Thêm {n}", short_code="CB")
        for m in range(3):
            member = make_member(organisation=cell, full_name=f"Đảng Viên {n}-{m}")
            MaterialRead.objects.create(material=material, member=member, first_read_at=NOW, last_read_at=NOW)
    assert queries() == few
    assert selectors.material_tracking(material=material, today=NOW.date())["cells"] == 7


def test_members_find_the_months_material_on_their_home_page(client_for, world, people, tree):
    material = publish(tree, people)
    publish(tree, people, month=datetime.date(2027, 1, 1), title="Tài liệu tháng 1/2027")
    client = client_for(people.member)
    html = client.get(reverse("meetings:my_home")).content.decode()
    assert "Tài liệu cấp trên tháng 12/2026" in html and material.title in html and "Tài liệu tháng 1/2027" not in html
    assert "Chưa đọc" in html
    response = client.get(reverse("meetings:material_file", args=[material.pk]))
    assert response.status_code == 200 and response["Content-Disposition"].startswith("attachment")
    html = client.get(reverse("meetings:my_home")).content.decode()
    assert "Đã đọc" in html
    assert MaterialRead.objects.filter(material=material, member=people.members["member"]).exists()


def test_a_confidential_material_is_stamped_with_the_reader_never_downloaded_and_every_view_logged(
    client, client_for, world, people, tree
):
    material = publish(tree, people, confidential=True)
    member_client = client_for(people.member)
    response = member_client.get(reverse("meetings:material_file", args=[material.pk]))
    assert response["Content-Disposition"].startswith("inline")
    assert "no-store" in response["Cache-Control"].split(", ")
    pages = PdfReader(io.BytesIO(response.content)).pages
    assert len(pages) == 2
    for page in pages:
        text = page.extract_text()
        assert "Lê Văn Đảng Viên" in text and "03/12/2026 08:05" in text
    view = AuditEntry.objects.get(action="meetings.material.view")
    assert (view.after["reader"], view.after["via"]) == ("Lê Văn Đảng Viên", "web")
    assert ACTIONS["meetings.material.view"] == "Xem tài liệu cấp trên mật"
    # Attached, it is a confidential meeting document: view-only from the member's link, stamped, logged.
    document = services.material_attach(material=material, meeting=world.meetings["a"], by=people.secretary)
    assert document.confidential
    token = token_of(world.meetings["a"], world.a[3])
    response = client.get(reverse("meetings:rsvp_document", args=[token, document.pk]))
    assert response["Content-Disposition"].startswith("inline")
    assert "Đinh Thị Bốn" in PdfReader(io.BytesIO(response.content)).pages[0].extract_text()
    assert AuditEntry.objects.filter(action="meetings.document.view").count() == 1
    # No page offers a download.
    for html in (
        member_client.get(reverse("meetings:my_home")).content.decode(),
        client.get(reverse("meetings:rsvp", args=[token])).content.decode(),
        client_for(people.officer).get(reverse("meetings:material_detail", args=[material.pk])).content.decode(),
    ):
        assert "Mật — chỉ xem" in html
        assert not DOWNLOAD_ATTRIBUTE.search(html)
    assert MaterialRead.objects.filter(material=material).count() == 2


def test_a_reader_outside_the_audience_does_not_find_it(client_for, world, people, tree):
    material = publish(tree, people, whole_subtree=False, cells=[tree.sibling])
    # A's member, A's secretary: their cell was not chosen.
    for user in (people.member, people.secretary):
        assert client_for(user).get(reverse("meetings:material_file", args=[material.pk])).status_code == 404
    assert not MaterialRead.objects.exists()
