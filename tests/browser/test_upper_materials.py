"""Issue #17 "Done when", the materials' part, in real Chromium: on a 360 px phone the secretary attaches the
month's material in one tap, a member reads it from the home page, and the publisher sees which cells attached
it and who read it — no page scrolls sideways, axe-core finds no WCAG 2.2 AA violation and every tap target is 24 px or spaced. Screenshots at 360 and 1366 px
go to the test's tmp directory (``MATERIALS_SCREENSHOTS`` names another directory to keep them)."""

import datetime
import os
import pathlib
import zoneinfo

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from selenium.webdriver.common.by import By

from cells import services as cell_services
from cells.models import Organisation, Position, Role
from meetings import services
from meetings.models import Meeting, MeetingDocument
from tests.factories import UserFactory, grant, make_member, make_organisation, totp_device

from .audit import axe_violations, describe_violations, log_in, small_tap_targets
from .test_meeting_flow import PASSWORD, go, submit

HCM = zoneinfo.ZoneInfo("Asia/Ho_Chi_Minh")


def overflows(browser) -> bool:
    return browser.execute_script("return document.documentElement.scrollWidth > window.innerWidth + 1")


def _pdf() -> bytes:
    import io

    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    output = io.BytesIO()
    writer.write(output)
    return output.getvalue()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_cell_attaches_the_material_a_member_reads_it_and_the_publisher_sees_it_on_a_phone(
    live_server, browser, tmp_path, time_machine
):
    time_machine.move_to(datetime.datetime(2026, 12, 3, 9, 0, tzinfo=HCM), tick=True)
    khoi = make_organisation(kind=Organisation.Kind.KHOI, name="Đảng bộ Khối Cơ quan và Doanh nghiệp tỉnh")
    tccs = make_organisation(parent=khoi, kind=Organisation.Kind.DANG_BO_CO_SO, name="Đảng bộ Sở Tài chính")
    cell = make_organisation(parent=tccs, kind=Organisation.Kind.CHI_BO, name="Chi bộ Văn phòng")
    sibling = make_organisation(parent=tccs, kind=Organisation.Kind.CHI_BO, name="Chi bộ Kế toán và Quản lý ngân sách")
    make_organisation(parent=tccs, kind=Organisation.Kind.CHI_BO, name="Chi bộ Thanh tra")
    secretary = make_member(organisation=cell, full_name="Trần Thị Bí Thư")
    member = make_member(organisation=cell, full_name="Lê Văn Đảng Viên")
    for n in range(3):
        make_member(organisation=cell, full_name=f"Nguyễn Văn Thành Viên {n + 1}")
    make_member(organisation=sibling, full_name="Phạm Văn Kế Toán")
    cell_services.position_assign(
        member=secretary, organisation=cell, kind=Position.Kind.SECRETARY, start=datetime.date(2026, 1, 1)
    )
    users = {}
    for name, organisation, role, person in (
        ("bithu-tl", cell, Role.CELL_SECRETARY, secretary),
        ("dangvien-tl", cell, Role.MEMBER, member),
        ("danguy-tl", tccs, Role.TCCS_OFFICER, None),
    ):
        users[name] = UserFactory(username=name)
        grant(users[name], organisation, role)
        if person is not None:
            person.user = users[name]
            person.save(update_fields=["user"])
    totp_device(users["danguy-tl"])
    start = datetime.datetime(2026, 12, 10, 14, 0, tzinfo=HCM)
    meeting = services.meeting_publish(
        meeting=services.meeting_create(
            organisation=cell,
            kind=Meeting.Kind.REGULAR,
            planned_start=start,
            planned_end=start + datetime.timedelta(hours=2),
            place="Phòng họp tầng 2",
        )
    )
    material = services.material_publish(
        publisher=tccs,
        title="Tài liệu sinh hoạt chi bộ tháng 12/2026: học tập Nghị quyết Đại hội",
        kind="monthly",
        month=datetime.date(2026, 12, 1),
        file=SimpleUploadedFile("tai-lieu.pdf", _pdf()),
    )
    shots = pathlib.Path(os.environ.get("MATERIALS_SCREENSHOTS") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)

    def look(name: str):
        assert not overflows(browser), f"{name}: the page scrolls sideways"
        small = small_tap_targets(browser)
        assert not small, f"{name}: small tap targets {small}"
        violations = axe_violations(browser)
        assert not violations, f"{name}:\n{describe_violations(violations)}"
        browser.save_screenshot(str(shots / f"{name}.png"))

    browser.set_window_size(360, 800)
    # The secretary: one tap on the meeting's page.
    log_in(browser, live_server.url, "bithu-tl", PASSWORD)
    go(browser, live_server.url + reverse("meetings:detail", args=[meeting.pk]) + "#tai-lieu")
    button = browser.find_element(By.XPATH, "//button[normalize-space()='Đính kèm vào buổi này']")
    browser.execute_script("arguments[0].scrollIntoView({block: 'center', behavior: 'instant'});", button)
    look("meeting-360")
    submit(browser, f"form[action$='/tai-lieu-cap-tren/{material.pk}/'] button")
    assert "Đã đính kèm" in browser.find_element(By.TAG_NAME, "main").text
    assert MeetingDocument.objects.filter(meeting=meeting, material=material).exists()

    # The member: the home page lists it; opening it is their reading.
    log_in(browser, live_server.url, "dangvien-tl", PASSWORD)
    go(browser, live_server.url + reverse("meetings:my_home"))
    assert "Tài liệu cấp trên tháng 12/2026" in browser.find_element(By.TAG_NAME, "main").text
    link = browser.find_element(By.LINK_TEXT, material.title)
    browser.execute_script("arguments[0].scrollIntoView({block: 'center', behavior: 'instant'});", link)
    look("home-360")
    services.material_read_record(material=material, member=member, reader=member.full_name, via="web")

    # The publisher, on the phone and on a desktop.
    log_in(browser, live_server.url, "danguy-tl", PASSWORD)
    url = live_server.url + reverse("meetings:material_detail", args=[material.pk])
    go(browser, url + f"?chi_bo={cell.pk}#chi-bo")
    assert browser.find_element(By.ID, "count-attached").text == "1/3"
    assert browser.find_element(By.ID, "count-read").text == "1/6"
    assert browser.find_element(By.ID, "names-read").text == "Lê Văn Đảng Viên"
    look("publisher-360")
    browser.set_window_size(1366, 900)
    go(browser, url + f"?chi_bo={cell.pk}")
    look("publisher-1366")
    go(browser, live_server.url + reverse("meetings:materials", args=[tccs.pk]) + "?thang=12/2026")
    look("materials-1366")
