"""Issue #18 item 4 through the real pages: one candidate from the cell's proposal to full member.

The secretary proposes a quần chúng ưu tú with two introducers, records the class certificate, the
documents, the cell's admission vote at a held meeting (measured against the official members by
meetings.votes), the đảng ủy's proposal and the decision; each step's due date is on the page (the
ceremony's 30 working days after the decision, cells/admission.py); the reminder rule runs and the bí thư
and the two introducers get their message, in the inbox and by e-mail; the ceremony creates the
probationary member; a year later the cell votes for full membership and the member is confirmed.

The live server runs on the real clock: the steps' dates are set relative to today, the decision so that
the ceremony's due date falls within the reminder's ten days.
"""

import datetime

import pytest
from django.conf import settings
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from cells import admission
from cells.models import AuditEntry, Candidate, CellMembership, Member, Notification, Organisation, Position, Role, Term
from lib.formatting import date_text
from meetings import reminders
from meetings import services as meeting_services
from meetings.models import Attendance, Meeting, ReminderRule, Vote
from tests.factories import UserFactory, grant, make_member, make_organisation, pass_second_factor

from .test_meeting_flow import PASSWORD, alert_text, fill, follow, go, submit, wait_for_heading


def typed(day: datetime.date) -> str:
    return day.strftime("%d/%m/%Y")


def held_meeting(cell, chair, clerk, day: datetime.date) -> Meeting:
    """A regular meeting of ``cell`` held on ``day`` with every member present (set up through the services,
    moved back in time as tests/meetings/conftest.py ``hold`` does)."""
    start = timezone.make_aware(datetime.datetime.combine(day, datetime.time(14, 0)))
    soon = timezone.localtime() + datetime.timedelta(days=3)
    meeting = meeting_services.meeting_create(
        organisation=cell,
        kind=Meeting.Kind.REGULAR,
        planned_start=soon,
        planned_end=soon + datetime.timedelta(hours=2),
        place="Phòng họp",
        chair=chair,
        clerk=clerk,
    )
    meeting = meeting_services.meeting_publish(meeting=meeting)
    Meeting.objects.filter(pk=meeting.pk).update(
        planned_start=start,
        planned_end=start + datetime.timedelta(hours=2),
        period_month=day.replace(day=1),
        notice_sent_at=start - datetime.timedelta(days=3),
    )
    meeting.refresh_from_db()
    meeting = meeting_services.meeting_record_held(
        meeting=meeting, actual_start=start, actual_end=start + datetime.timedelta(hours=2)
    )
    meeting_services.attendance_record(
        meeting=meeting, presence={a.member_id: (Attendance.Presence.PRESENT, "") for a in meeting.attendances.all()}
    )
    return meeting


def decision_day_for_a_reminder(today: datetime.date) -> datetime.date:
    """The latest decision day whose ceremony is due within the reminder's days from today, not yet past."""
    for back in range(30, 60):
        day = today - datetime.timedelta(days=back)
        due = admission.ceremony_due(day)
        if due - datetime.timedelta(days=admission.REMINDER_DAYS_BEFORE) <= today <= due:
            return day
    raise AssertionError("no decision day puts the ceremony within the reminder's window")


@pytest.fixture
def cell_people(transactional_db):
    khoi = make_organisation(kind=Organisation.Kind.KHOI, name="Đảng bộ Khối", short_code="ĐUK")
    tccs = make_organisation(parent=khoi, kind=Organisation.Kind.DANG_BO_CO_SO, name="Đảng bộ Sở Tài chính")
    cell = make_organisation(parent=tccs, kind=Organisation.Kind.CHI_BO, name="Chi bộ Văn phòng", short_code="CB")
    Term.objects.get_or_create(organisation=cell, start=datetime.date(2025, 6, 1), defaults={"name": "2025–2030"})
    secretary = make_member(organisation=cell, full_name="Trần Thị Bí Thư", email="bithu@example.vn")
    mentor_1 = make_member(organisation=cell, full_name="Lê Văn Giới Thiệu", email="gioithieu1@example.vn")
    mentor_2 = make_member(organisation=cell, full_name="Phạm Thị Giúp Đỡ", email="gioithieu2@example.vn")
    Position.objects.create(
        member=secretary, organisation=cell, kind=Position.Kind.SECRETARY, start=datetime.date(2025, 5, 1)
    )
    user = UserFactory(username="bithu-ketnap")
    grant(user, cell, Role.CELL_SECRETARY)
    secretary.user = user
    secretary.save(update_fields=["user"])
    return type(
        "People",
        (),
        {"cell": cell, "secretary": secretary, "mentors": (mentor_1, mentor_2), "user": user, "tccs": tccs},
    )


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_one_candidate_walks_through_every_admission_step(live_server, browser, cell_people, tmp_path):
    people = cell_people
    today = timezone.localdate()
    decision = decision_day_for_a_reminder(today)
    vote_day = decision - datetime.timedelta(days=12)
    proposal = decision - datetime.timedelta(days=5)
    documents = vote_day - datetime.timedelta(days=10)
    certificate = documents - datetime.timedelta(days=60)

    browser.get(live_server.url + "/dang-nhap/")
    fill(browser, "username", people.user.username)
    fill(browser, "password", PASSWORD)
    submit(browser)

    # From the cell's page to its pipeline, empty; the secretary proposes a candidate.
    go(browser, live_server.url + reverse("cells:organisation_detail", args=[people.cell.pk]))
    follow(browser, "Phát triển đảng viên")
    wait_for_heading(browser, "Phát triển đảng viên")
    assert "Chi bộ chưa giới thiệu quần chúng ưu tú nào." in browser.page_source
    follow(browser, "Giới thiệu quần chúng ưu tú")
    wait_for_heading(browser, "Giới thiệu quần chúng ưu tú")
    fill(browser, "full_name", "Nguyễn Thị Quần Chúng")
    fill(browser, "date_of_birth", "20/05/1998")
    fill(browser, "citizen_id", "045198000123")
    fill(browser, "workplace", "Văn phòng Sở Tài chính")
    Select(browser.find_element(By.NAME, "mentor_1")).select_by_visible_text(people.mentors[0].full_name)
    Select(browser.find_element(By.NAME, "mentor_2")).select_by_visible_text(people.mentors[0].full_name)
    fill(browser, "proposed_on", typed(certificate - datetime.timedelta(days=30)))
    submit(browser)
    # The same introducer twice: the error next to the field, nothing written.
    error = browser.find_element(By.CSS_SELECTOR, "#div_id_mentor_2 .invalid-feedback, #div_id_mentor_2 .text-danger")
    assert "khác nhau" in error.text
    assert not Candidate.objects.exists()
    Select(browser.find_element(By.NAME, "mentor_2")).select_by_visible_text(people.mentors[1].full_name)
    submit(browser)
    assert "Đã ghi quần chúng ưu tú" in alert_text(browser)
    candidate = Candidate.objects.get()
    assert browser.current_url == live_server.url + reverse("admission:candidate_detail", args=[candidate.pk])

    def record(step_heading, values, checks=()):
        follow(browser, "Ghi bước này")
        wait_for_heading(browser, step_heading)
        for name, value in values.items():
            fill(browser, name, value)
        for name in checks:
            box = browser.find_element(By.NAME, name)
            browser.execute_script("arguments[0].scrollIntoView({block: 'center', behavior: 'instant'});", box)
            box.click()
        submit(browser)
        assert "Đã ghi bước" in alert_text(browser), browser.page_source[:2000]

    record(
        "Học lớp bồi dưỡng",
        {
            "class_name": "Lớp bồi dưỡng nhận thức về Đảng",
            "class_date": typed(certificate),
            "certificate_number": "125",
        },
    )
    expiry = admission.certificate_expiry(certificate)
    assert date_text(expiry) in browser.find_element(By.ID, "buoc-documents").text  # the certificate's 60 months
    record(
        "Hoàn thiện hồ sơ",
        {"documents_date": typed(documents)},
        checks=("has_application", "has_biography", "has_references", "has_reviews", "has_verification"),
    )

    # The cell's vote, at its meeting: three official members present, three for.
    meeting = held_meeting(people.cell, people.secretary, people.mentors[0], vote_day)
    assert "Việc tiếp theo" in browser.page_source and "Chi bộ biểu quyết đề nghị kết nạp" in browser.page_source
    go(browser, live_server.url + reverse("meetings:detail", args=[meeting.pk]))
    follow(browser, "Ghi biểu quyết")
    wait_for_heading(browser, "Ghi kết quả biểu quyết")
    fill(browser, "question", "Đề nghị kết nạp quần chúng Nguyễn Thị Quần Chúng")
    Select(browser.find_element(By.NAME, "kind")).select_by_value(Vote.Kind.ADMISSION)
    Select(browser.find_element(By.NAME, "candidate")).select_by_visible_text("Nguyễn Thị Quần Chúng")
    fill(browser, "votes_for", "3")
    submit(browser)
    assert "Đã ghi kết quả biểu quyết." in alert_text(browser)
    vote = Vote.objects.get(candidate=candidate)
    assert vote.eligible_count == 3 and vote.passed

    go(browser, live_server.url + reverse("admission:candidate_detail", args=[candidate.pk]))
    assert "3/3" in browser.find_element(By.ID, "buoc-vote").text
    record("Đảng ủy cơ sở đề nghị", {"proposal_number": "45-TTr/ĐU", "proposal_date": typed(proposal)})
    follow(browser, "Ghi bước này")
    wait_for_heading(browser, "Quyết định kết nạp")
    fill(browser, "decision_number", "123-QĐ/ĐUK")
    fill(browser, "decision_date", typed(decision))
    fill(browser, "decision_signer", "Phó Bí thư Đảng ủy Khối")
    submit(browser)
    assert "Đã ghi bước" in alert_text(browser)

    # The ceremony's due date on the page, and the pipeline flags it as near.
    due = admission.ceremony_due(decision)
    ceremony = browser.find_element(By.ID, "buoc-ceremony").text
    assert date_text(due) in ceremony and "Sắp đến hạn" in ceremony
    assert "vì chưa có ngày nhận quyết định" in ceremony  # counted from the decision's date, and said so
    browser.set_window_size(360, 800)
    assert browser.execute_script("return document.documentElement.scrollWidth") <= 360
    browser.save_screenshot(str(tmp_path / "candidate-360.png"))
    browser.set_window_size(1366, 900)
    browser.save_screenshot(str(tmp_path / "candidate-1366.png"))
    go(browser, live_server.url + reverse("admission:cell_pipeline", args=[people.cell.pk]))
    assert "Lễ kết nạp" in browser.page_source and date_text(due) in browser.page_source
    browser.set_window_size(360, 800)
    assert browser.execute_script("return document.documentElement.scrollWidth") <= 360
    browser.save_screenshot(str(tmp_path / "pipeline-360.png"))
    browser.set_window_size(1280, 900)

    # The reminder: once, to the bí thư and the two introducers, in the inbox and by e-mail.
    mail.outbox.clear()
    rule = ReminderRule.objects.get(code="admission_step_due")
    assert reminders.reminder_rule_run(rule_id=rule.pk) == 3
    assert reminders.reminder_rule_run(rule_id=rule.pk) == 0
    sent = Notification.objects.filter(kind="meetings.reminder.admission_step_due")
    assert {n.member_id for n in sent} == {people.secretary.pk, people.mentors[0].pk, people.mentors[1].pk}
    assert sorted(m.to[0] for m in mail.outbox) == [
        "bithu@example.vn",
        "gioithieu1@example.vn",
        "gioithieu2@example.vn",
    ]
    go(browser, live_server.url + reverse("inbox:inbox"))
    assert f"Sắp đến hạn kết nạp: Lễ kết nạp — Nguyễn Thị Quần Chúng (hạn {date_text(due)})" in browser.page_source

    # The ceremony: the probationary member is created, and the probation's review due date shown.
    go(browser, live_server.url + reverse("admission:candidate_detail", args=[candidate.pk]))
    record("Lễ kết nạp", {"ceremony_date": typed(today)})
    candidate.refresh_from_db()
    member = candidate.member
    assert member.status == Member.Status.PROBATIONARY
    assert (member.admission_decision_date, member.admission_ceremony_date) == (decision, today)
    probation = browser.find_element(By.ID, "buoc-probation").text
    assert date_text(admission.review_due(today)) in probation
    assert date_text(member.probation_review_due()) in probation

    # A year passes (the dates moved back 13 months): the cell votes for full membership at its meeting,
    # and the đảng ủy cơ sở's officer confirms on the member's page.
    shift = datetime.timedelta(days=400)
    Candidate.objects.filter(pk=candidate.pk).update(
        **{
            key: getattr(candidate, key) - shift
            for key in (
                "proposed_on",
                "class_date",
                "documents_date",
                "proposal_date",
                "decision_date",
                "ceremony_date",
            )
        }
    )
    Member.objects.filter(pk=member.pk).update(
        admission_decision_date=decision - shift, admission_ceremony_date=today - shift
    )
    Meeting.objects.filter(pk=meeting.pk).update(
        planned_start=meeting.planned_start - shift,
        planned_end=meeting.planned_end - shift,
        actual_start=meeting.actual_start - shift,
        actual_end=meeting.actual_end - shift,
        notice_sent_at=meeting.notice_sent_at - shift,
        period_month=(vote_day - shift).replace(day=1),
    )
    CellMembership.objects.filter(member=member).update(start=today - shift)
    member.refresh_from_db()
    review = held_meeting(people.cell, people.secretary, people.mentors[0], today - datetime.timedelta(days=1))
    go(browser, live_server.url + reverse("meetings:detail", args=[review.pk]))
    follow(browser, "Ghi biểu quyết")
    wait_for_heading(browser, "Ghi kết quả biểu quyết")
    fill(browser, "question", "Công nhận đảng viên chính thức")
    Select(browser.find_element(By.NAME, "kind")).select_by_value(Vote.Kind.FULL_MEMBERSHIP)
    Select(browser.find_element(By.NAME, "subject")).select_by_visible_text(member.full_name)
    fill(browser, "votes_for", "3")
    submit(browser)
    assert "Đã ghi kết quả biểu quyết." in alert_text(browser)
    # The officer of the đảng ủy cơ sở confirms in the browser: the page asks for the second factor, so the
    # browser carries the session of a client that passed it (the code page itself has its own tests).
    officer = UserFactory(username="canbo-ketnap")
    grant(officer, people.tccs, Role.TCCS_OFFICER)
    client = Client()
    client.force_login(officer, backend="django.contrib.auth.backends.ModelBackend")
    pass_second_factor(client, officer)
    browser.delete_all_cookies()
    browser.add_cookie(
        {"name": settings.SESSION_COOKIE_NAME, "value": client.cookies[settings.SESSION_COOKIE_NAME].value, "path": "/"}
    )
    go(browser, live_server.url + reverse("books:books_member_full_membership", args=[member.pk]))
    wait_for_heading(browser, "Công nhận đảng viên chính thức")
    fill(browser, "on", typed(today))
    submit(browser)
    assert "Đã công nhận đảng viên chính thức." in alert_text(browser)
    assert AuditEntry.objects.filter(actor=officer, object_id=str(member.pk)).exists()
    go(browser, live_server.url + reverse("admission:candidate_detail", args=[candidate.pk]))
    assert "Đã là đảng viên chính thức." in alert_text(browser)
    assert Member.objects.get(pk=member.pk).status == Member.Status.OFFICIAL
