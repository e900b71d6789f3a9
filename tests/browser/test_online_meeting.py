"""Issue #17 in real Chromium on a 360 px phone: before the meeting, a member opens a confidential document
from the notice (a read receipt; no download link) and asks to be excused (accepted: recorded "vắng có lý do");
then item 3, an online meeting from the member's link.

The hand-worked cell of tests/meetings/test_online_meetings.py: 9 official members and 1 probationary
summoned, Đảng Viên 9 away with a reason. Member X (Đảng Viên 3) opens their link during the meeting,
confirms presence with one tap, writes an opinion on item 2 and votes on it; Y (Đảng Viên 4), who left
after item 1, and the probationary member see why they cannot vote, with no ballot button. Four more
members vote for; the chair closes the question on their page: 5 for of a count of 9 (not of the 7 present
for item 2) passes. The adopted minutes' PDF carries the presence per item, the written opinion and the count.
Screenshots are written to the test's tmp directory (``ONLINE_SCREENSHOTS`` names another to keep them).
"""

import datetime
import os
import pathlib
import shutil
import subprocess
import urllib.request

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from cells.models import AuditEntry, Member
from meetings import services
from meetings.models import (
    AbsenceRequest,
    Attendance,
    Ballot,
    DocumentRead,
    Meeting,
    Opinion,
    Resolution,
    Vote,
    VoteQuestion,
)
from tests.factories import make_member
from tests.meetings.test_document_reads import pdf_bytes

from .audit import log_in
from .test_meeting_flow import PASSWORD, alert_text, follow, go, submit

HCM = datetime.timezone(datetime.timedelta(hours=7))
NOTICE = datetime.datetime(2026, 12, 1, 9, 0, tzinfo=HCM)
START = datetime.datetime(2026, 12, 15, 14, 0, tzinfo=HCM)
P = Attendance.Presence


def overflows(browser) -> bool:
    return browser.execute_script("return document.documentElement.scrollWidth > window.innerWidth + 1")


def shot(browser, tmp_path, name):
    folder = pathlib.Path(os.environ.get("ONLINE_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    height = browser.execute_script("return document.documentElement.scrollHeight")
    width = browser.get_window_size()["width"]
    browser.set_window_size(width, min(max(height, 800), 4000))
    browser.save_screenshot(str(folder / f"{name}.png"))
    browser.set_window_size(width, 800)


def press(browser, selector):
    """Click a button (a script click, scrolled to at once) and wait for the next page."""
    submit(browser, selector)


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_member_joins_an_online_meeting_on_a_phone_and_votes(
    live_server, browser, tree, people, tmp_path, time_machine, pdftotext_available
):
    time_machine.move_to(NOTICE, tick=True)
    official = [people.members["secretary"], people.members["member"]]
    official += [make_member(organisation=tree.cell, full_name=f"Đảng Viên {n}") for n in range(3, 10)]
    probationary = make_member(organisation=tree.cell, full_name="Dự Bị Mười", status=Member.Status.PROBATIONARY)
    x, y, away = official[2], official[3], official[8]
    meeting = services.meeting_create(
        organisation=tree.cell,
        kind=Meeting.Kind.REGULAR,
        planned_start=START,
        planned_end=START + datetime.timedelta(hours=2),
        period_month=datetime.date(2026, 12, 1),
        place="Phòng họp tầng 2",
        mode=Meeting.Mode.ONLINE,
        online_link="https://hop.example.vn/chibo-vanphong",
        chair=people.members["secretary"],
        clerk=people.members["secretary"],
        by=people.secretary,
    )
    meeting = services.meeting_publish(meeting=meeting, by=people.secretary)
    items = list(meeting.agenda_items.order_by("order", "pk"))
    # Before the meeting (items 1 and 2 of the issue): a confidential document; the member who will be away
    # opens it from the notice on a phone (a read receipt, no download link) and asks to be excused.
    document = services.meeting_document_add(
        meeting=meeting,
        file=SimpleUploadedFile("ke-hoach-mat.pdf", pdf_bytes(), content_type="application/pdf"),
        title="Kế hoạch công tác tháng 01/2027 (mật)",
        confidential=True,
        by=people.secretary,
    )
    browser.set_window_size(360, 800)
    away_url = live_server.url + reverse("meetings:rsvp", args=[services.rsvp_token(meeting=meeting, member=away)])
    go(browser, away_url)
    link = browser.find_element(By.LINK_TEXT, document.title)
    assert link.get_dom_attribute("download") is None and "Mật — chỉ xem" in browser.page_source
    assert "Tải" not in link.find_element(By.XPATH, "./..").text
    browser.get(link.get_attribute("href"))
    assert DocumentRead.objects.filter(document=document, member=away).exists()
    assert AuditEntry.objects.filter(action="meetings.document.view", object_id=str(document.pk)).count() == 1
    go(browser, away_url)
    follow(browser, "Xin vắng có lý do (kèm minh chứng)")
    radio = browser.find_element(By.CSS_SELECTOR, f"input[name=reason_type][value={AbsenceRequest.ReasonType.WORK}]")
    browser.execute_script("arguments[0].click();", radio)
    browser.find_element(By.NAME, "reason").send_keys("Đi công tác Hà Nội theo quyết định của cơ quan")
    submit(browser)
    request = AbsenceRequest.objects.get(member=away)
    assert request.state == AbsenceRequest.State.PENDING and not overflows(browser)
    services.absence_request_decide(request=request, accept=True, by=people.secretary)
    assert Attendance.objects.get(meeting=meeting, member=away).presence == P.ABSENT_EXCUSED
    time_machine.move_to(datetime.datetime(2026, 12, 15, 14, 2, tzinfo=HCM), tick=True)
    # The secretary records the room (the excused member is already recorded); X is left for their own tap.
    presence = {m.pk: (P.PRESENT, "") for m in official + [probationary] if m not in (x, away)}
    services.attendance_record(meeting=meeting, presence=presence, items={y.pk: (None, items[0].pk)})
    question = services.vote_question_open(
        meeting=meeting, agenda_item=items[1], question="Thông qua kế hoạch tháng 01/2027", kind=Vote.Kind.OTHER
    )

    # X on a phone: the notice's page leads to the room; one tap confirms presence.
    x_token = services.rsvp_token(meeting=meeting, member=x)
    go(browser, live_server.url + reverse("meetings:rsvp", args=[x_token]))
    follow(browser, "Vào sinh hoạt trực tuyến: có mặt, ý kiến, biểu quyết")
    assert "Xác nhận có mặt" in browser.page_source
    assert not overflows(browser)
    shot(browser, tmp_path, "room-360-before")
    press(browser, "#co-mat button[type=submit]")
    assert "Đã ghi nhận đồng chí có mặt (có mặt)" in alert_text(browser)
    assert Attendance.objects.get(meeting=meeting, member=x).presence == P.PRESENT
    # X was there for items 1–3 only: the secretary records it.
    services.attendance_record(meeting=meeting, presence={}, items={x.pk: (None, items[2].pk)})

    # A written opinion on item 2.
    Select(browser.find_element(By.NAME, "agenda_item")).select_by_value(str(items[1].pk))
    browser.find_element(By.NAME, "text").send_keys("Đề nghị bổ sung tiến độ từng tháng")
    press(browser, "#y-kien button[type=submit]")
    assert "Đã gửi ý kiến bằng văn bản" in alert_text(browser)
    opinion = Opinion.objects.get()
    assert (opinion.speaker, opinion.agenda_item, opinion.in_writing) == (x, items[1], True)

    # The vote on item 2: X votes against, then changes to for before the close; no count is shown.
    press(browser, f"#bq-{question.pk} button[value=against]")
    assert "Không tán thành" in alert_text(browser)
    press(browser, f"#bq-{question.pk} button[value=for]")
    assert "Lựa chọn của đồng chí: Tán thành" in browser.find_element(By.ID, f"bq-{question.pk}").text
    assert Ballot.objects.get(question=question, member=x).choice == "for"
    assert not overflows(browser)
    shot(browser, tmp_path, "room-360-voted")

    # Y, who left after item 1, and the probationary member: a clear refusal, no ballot button.
    for member, words in (
        (y, "Đồng chí đã rời buổi sinh hoạt sau nội dung 1"),
        (probationary, "Đảng viên dự bị không có quyền biểu quyết"),
    ):
        go(
            browser,
            live_server.url
            + reverse("meetings:rsvp_online", args=[services.rsvp_token(meeting=meeting, member=member)]),
        )
        box = browser.find_element(By.ID, f"bq-{question.pk}")
        assert words in box.text and not box.find_elements(By.CSS_SELECTOR, "button")
    shot(browser, tmp_path, "room-360-probationary")
    assert Ballot.objects.count() == 1

    # Four more members vote for from their links (the secretary, the member, Đảng Viên 5 and 6).
    for member in (official[0], official[1], official[4], official[5]):
        services.ballot_cast(
            token=services.rsvp_token(meeting=meeting, member=member), question_id=question.pk, choice="for"
        )

    # The chair closes the question on their page: 5 for, measured against 9.
    browser.set_window_size(1366, 900)
    log_in(browser, live_server.url, "secretary", PASSWORD)
    go(browser, live_server.url + reverse("meetings:online_votes", args=[meeting.pk]))
    assert "Đã biểu quyết: 5/7" in browser.page_source and "biểu quyết tính trên: 9" in browser.page_source
    press(browser, "main form[action$='/ket-thuc/'] button[type=submit]")
    assert "tán thành 5/9, thông qua" in alert_text(browser)
    assert VoteQuestion.objects.get().vote.eligible_count == 9
    shot(browser, tmp_path, "chair-1366")
    browser.set_window_size(360, 800)
    assert not overflows(browser)
    shot(browser, tmp_path, "chair-360")

    # The meeting ends; the minutes are adopted and their PDF carries presence per item, the opinion, the count.
    time_machine.move_to(datetime.datetime(2026, 12, 15, 16, 30, tzinfo=HCM), tick=True)
    services.meeting_record_held(meeting=meeting, actual_start=START, actual_end=START + datetime.timedelta(hours=2))
    services.attendance_record(meeting=meeting, presence={x.pk: (P.PRESENT, "")}, items={x.pk: (None, items[2].pk)})
    services.resolution_set(meeting=meeting, kind=Resolution.Kind.CONCLUSION, text="Chi bộ thống nhất kế hoạch.")
    services.meeting_adopt_minutes(meeting=meeting, by=people.secretary)
    pdf_url = live_server.url + reverse("meetings:minutes_pdf", args=[meeting.pk])
    session = browser.get_cookie("sessionid")["value"]
    request = urllib.request.Request(pdf_url, headers={"Cookie": f"sessionid={session}"})
    with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310 - the live test server
        pdf = response.read()
    assert pdf.startswith(b"%PDF") and shutil.which("pdftotext")
    text = subprocess.run(["pdftotext", "-layout", "-", "-"], input=pdf, capture_output=True, check=True).stdout
    text = " ".join(text.decode().split())
    assert (
        "Có mặt không trọn buổi: đồng chí Đảng Viên 3: có mặt đến hết nội dung 3; đồng chí Đảng Viên 4: có mặt đến hết nội dung 1"
        in text
    )
    assert "Đồng chí Đảng Viên 3 (ý kiến bằng văn bản): Đề nghị bổ sung tiến độ từng tháng" in text
    assert "tán thành 5/9 đồng chí (55,6%)" in text and "5/7 đồng chí có mặt ở nội dung này" in text
    assert "Kết quả: thông qua" in text
