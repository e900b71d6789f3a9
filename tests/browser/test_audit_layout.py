"""Issue 15 item 6: the change log fits the screen — a table whose before → after column wraps at
1366 px, and one card per change, stacked, on a 360 px phone. Nothing scrolls sideways."""

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

from cells import services
from cells.models import Organisation, Role
from tests.factories import UserFactory, grant, make_member, make_organisation, totp_device

from .audit import log_in

PASSWORD = "matkhau-123"


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_log_fits_at_1366_and_stacks_at_360(live_server, browser, tmp_path):
    khoi = make_organisation(
        kind=Organisation.Kind.KHOI, name="Đảng bộ Khối Cơ quan và Doanh nghiệp tỉnh", short_code="ĐUK"
    )
    tccs = make_organisation(
        parent=khoi, kind=Organisation.Kind.DANG_BO_CO_SO, name="Đảng bộ Sở Tài chính", short_code="ĐU"
    )
    cell = make_organisation(parent=tccs, kind=Organisation.Kind.CHI_BO, name="Chi bộ Văn phòng", short_code="CB")
    admin = UserFactory(username="bantochuc")
    admin.set_password(PASSWORD)
    admin.save()
    grant(admin, khoi, Role.KHOI_ADMIN)
    member = make_member(organisation=cell, full_name="Nguyễn Thị Phương Thảo")
    long_text = "Công tác chuẩn bị nội dung sinh hoạt chuyên đề về học tập và làm theo tư tưởng, đạo đức, " * 4
    for n in range(6):
        services.audit_log(
            actor=admin,
            action="cells.member.update",
            instance=member,
            organisation=cell,
            before={"workplace": long_text, "job_title": "Chuyên viên", "phone": "0912345678"},
            after={
                "workplace": long_text + f" ({n})",
                "job_title": "Trưởng phòng Tổ chức cán bộ",
                "phone": "0987654321",
            },
        )
        services.audit_log(
            actor=admin,
            action="cells.member.transfer",
            instance=member,
            organisation=cell,
            before={"reason": "x" * 180},
            after={"reason": "một-từ-rất-dài-không-có-khoảng-trắng" * 6},
        )

    totp_device(admin)  # the Khối's administrator signs in with the second factor (audit.log_in types the code)
    log_in(browser, live_server.url, "bantochuc", PASSWORD)

    def overflow():
        return browser.execute_script("""
            const doc = document.documentElement, table = document.querySelector('table.audit-log');
            return {page: doc.scrollWidth - doc.clientWidth,
                    table: Math.round(table.getBoundingClientRect().right - doc.clientWidth),
                    thead: getComputedStyle(table.querySelector('thead')).display,
                    row: getComputedStyle(table.querySelector('tbody tr')).display,
                    labels: [...table.querySelectorAll('tbody tr:first-child td')].map(
                        td => getComputedStyle(td, '::before').content)};""")

    for width, stacked in ((1366, False), (360, True)):
        browser.set_window_size(width, 900)
        browser.get(live_server.url + "/nhat-ky/")
        WebDriverWait(browser, 20).until(EC.text_to_be_present_in_element((By.TAG_NAME, "h1"), "Nhật ký thay đổi"))
        layout = overflow()
        browser.save_screenshot(str(tmp_path / f"audit-{width}.png"))
        assert layout["page"] <= 0 and layout["table"] <= 0, (width, layout)
        assert "Sửa hồ sơ đảng viên" in browser.find_element(By.TAG_NAME, "main").text
        if stacked:
            assert layout["thead"] == "none" and layout["row"] == "block"
            assert '"Thời điểm"' in layout["labels"]  # each value under its column's name
        else:
            assert layout["thead"] != "none"
