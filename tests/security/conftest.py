import datetime

import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from cells import services as cell_services
from cells.models import DuesRemittance, Position, RequiredDocumentType, Role, RoleAssignment
from lib.dates import quarter_start
from meetings import async_decisions
from meetings import calendar as meeting_calendar
from meetings import services as meeting_services
from meetings.models import AbsenceRequest, VoteQuestion
from reports.models import ReportRun
from scoring import services as scoring_services
from tests.browser.conftest import chromium_driver
from tests.factories import make_member
from tests.scoring.conftest import build_meeting, local


@pytest.fixture
def csp_browser(tmp_path):
    """Headless Chromium (as tests/browser) that keeps the console log and records CSP violations.

    Every page gets a ``securitypolicyviolation`` listener before its own scripts run (through the
    DevTools protocol, which the page's policy does not govern); ``csp_violations(driver)`` reads it.
    """
    driver = chromium_driver(tmp_path, keep_console_log=True)
    driver.execute_cdp_cmd(
        "Page.addScriptToEvaluateOnNewDocument",
        {
            "source": """
        window.__cspViolations = [];
        document.addEventListener('securitypolicyviolation', function (e) {
          window.__cspViolations.push(e.violatedDirective + ' ' + (e.blockedURI || '') + ' ' + (e.sample || ''));
        });
    """
        },
    )
    yield driver
    driver.quit()


def csp_violations(driver) -> list[str]:
    recorded = driver.execute_script("return window.__cspViolations || []")
    logged = [entry["message"] for entry in driver.get_log("browser") if "Content Security Policy" in entry["message"]]
    return recorded + logged


@pytest.fixture
def objects(tree, people, settings):
    """One object of every kind, all of cell A (Chi bộ Văn phòng), and its đảng ủy cơ sở."""
    secretary, member = people.members["secretary"], people.members["member"]
    # The clerk user takes the minutes of this meeting (the clerk's write path of meetings.selectors).
    clerk = make_member(organisation=tree.cell, full_name="Ngô Thị Thư Ký")
    clerk.user = people.clerk
    clerk.save(update_fields=["user"])
    for n in range(3, 6):
        make_member(organisation=tree.cell, full_name=f"Đảng Viên {n:02d}")
    meeting = build_meeting(
        tree.cell,
        start=local(2026, 3, 17),
        speakers=[secretary, member],
        tasks=[("Việc của đảng viên", [member])],
        chair=secretary,
        clerk=clerk,
    )
    meeting_document = meeting_services.meeting_document_add(
        meeting=meeting, file=SimpleUploadedFile("tai-lieu.pdf", b"%PDF-1.4\n%%EOF\n")
    )
    score = scoring_services.meeting_score_prefill(meeting=meeting, by=people.secretary)
    meeting = meeting_services.meeting_adopt_minutes(meeting=meeting, by=people.secretary)
    rating = next(r for r in scoring_services.annual_rating_open(cell=tree.cell, year=2026) if r.member_id == member.pk)
    doctype = RequiredDocumentType.objects.get(code="ctr-cong-tac-nam")
    celldoc = cell_services.cell_document_upload(
        organisation=tree.cell,
        document_type=doctype,
        year=2026,
        file=SimpleUploadedFile("a.pdf", b"%PDF-1.4\n%%EOF\n"),
        adopted_on=datetime.date(2026, 1, 5),
    )
    cell_services.dues_month_open(organisation=tree.cell, month=datetime.date(2026, 3, 1))
    # A remittance line and an activity-fund line of cell A's book (their correct and delete pages).
    remittance = DuesRemittance.objects.create(
        organisation=tree.cell,
        month=datetime.date(2026, 3, 1),
        remitted_on=datetime.date(2026, 3, 28),
        amount=1_000,
        receipt_number="BL-01",
    )
    fund_entry = cell_services.cell_fund_entry_record(
        organisation=tree.cell,
        kind="receipt",
        entry_date=datetime.date(2026, 3, 2),
        amount=500_000,
        purpose="Kinh phí quý I",
        voucher_number="PT-01",
    )
    inspection = scoring_services.inspection_create(
        organisation=tree.cell,
        inspected_on=datetime.date(2026, 3, 1),
        inspectors="Đ/c Kiểm Tra",
        findings="Sổ sách đủ",
        follow_up="Bổ sung sổ",
        follow_up_due=datetime.date(2026, 4, 1),
        by=people.officer,
    )
    run = ReportRun.objects.create(organisation=tree.tccs, params={"year": 2026}, status=ReportRun.Status.DONE)
    run.pdf.save("bao-cao.pdf", ContentFile(b"%PDF-1.4\n%%EOF\n"))
    run.xlsx.save("bao-cao.xlsx", ContentFile(b"PK"))
    correction = cell_services.correction_request(
        member=member, field="phone", new_value="0912 345 678", reason="Đã đổi số", by=people.member
    )
    notification = cell_services.notification_send(
        members=[member],
        kind="test",
        subject="Thông báo",
        body="Nội dung",
        attachment=meeting_calendar.invitation_attachment(meeting),
    )[0]
    feed = meeting_services.calendar_feed_renew(member=member, by=people.member)
    position = cell_services.position_assign(
        member=member, organisation=tree.cell, kind=Position.Kind.COMMITTEE_MEMBER, start=datetime.date(2026, 1, 1)
    )
    planned_topic = meeting_services.planned_topic_create(
        cell=tree.cell, year=2026, kind="thematic", quarter=1, title="Học tập Nghị quyết"
    )
    # The member's request to be excused, with its evidence (made directly: the meeting is adopted).
    absence_request = AbsenceRequest.objects.create(
        meeting=meeting, member=member, reason_type=AbsenceRequest.ReasonType.WORK, reason="Công tác"
    )
    absence_request.evidence.save("minh-chung.pdf", ContentFile(b"%PDF-1.4\n%%EOF\n"))
    course = cell_services.course_create(
        organiser=tree.tccs,
        title="Bồi dưỡng nghiệp vụ công tác đảng",
        start_date=datetime.date(2026, 1, 12),
        end_date=datetime.date(2026, 1, 14),
    )
    attendance = cell_services.attendance_add(
        course=course,
        member=member,
        completed=True,
        certificate_number="CN-01",
        certificate=SimpleUploadedFile("chung-nhan.pdf", b"%PDF-1.4\n%%EOF\n"),
    )
    # A quần chúng ưu tú proposed by cell A (issue #18, item 4), introduced by its secretary and a member.
    candidate = cell_services.candidate_create(
        organisation=tree.cell,
        full_name="Quần Chúng Ưu Tú",
        mentor_1=secretary,
        mentor_2=member,
        proposed_on=datetime.date(2026, 1, 5),
    )
    candidate_document = cell_services.candidate_document_add(
        candidate=candidate, kind="application", file=SimpleUploadedFile("don.pdf", b"%PDF-1.4\n%%EOF\n")
    )
    # The secretary of A is a đảng ủy viên (in charge of the sibling cell), assigned to visit it this quarter.
    cell_services.position_assign(
        member=secretary, organisation=tree.sibling, kind=Position.Kind.SUPERVISOR, start=datetime.date(2026, 1, 1)
    )
    visit = meeting_services.visit_assign(
        upper=tree.tccs,
        cell=tree.sibling,
        quarter=quarter_start(timezone.localdate()),
        visitor=secretary,
        by=people.officer,
    )
    # A material of the đảng ủy cơ sở for its whole subtree (cell A reads it), issue #17 item 5.
    material = meeting_services.material_publish(
        publisher=tree.tccs,
        title="Tài liệu sinh hoạt tháng 3",
        kind="monthly",
        month=datetime.date(2026, 3, 1),
        file=SimpleUploadedFile("tai-lieu-thang.pdf", b"%PDF-1.4\n%%EOF\n"),
        by=people.officer,
    )
    # A question asked between meetings, with a document, open for a week (issue #17 item 4).
    async_decision = async_decisions.decision_open(
        cell=tree.cell,
        question="Chủ trương tổ chức về nguồn",
        deadline=timezone.now() + datetime.timedelta(days=7),
        documents=[SimpleUploadedFile("ke-hoach.pdf", b"%PDF-1.4\n%%EOF\n")],
        by=people.secretary,
    )
    # An online question on the meeting's first item (made directly: the meeting is adopted and held in person).
    question = VoteQuestion.objects.create(
        meeting=meeting, agenda_item=meeting.agenda_items.first(), question="Biểu quyết", opened_at=timezone.now()
    )
    return {
        "material": material.pk,
        "async_decision": async_decision.pk,
        "async_document": async_decision.documents.get().pk,
        "async_token": async_decisions.answer_token(decision=async_decision, member=member),
        "question": question.pk,
        "planned_topic": planned_topic.pk,
        "absence_request": absence_request.pk,
        "visit": visit.pk,
        "cell": tree.cell.pk,
        "tccs": tree.tccs.pk,
        "member": member.pk,
        "meeting": meeting.pk,
        "meeting_document": meeting_document.pk,
        "item": meeting.agenda_items.first().pk,
        "task": meeting.tasks.get().pk,
        "token": meeting_services.rsvp_token(meeting=meeting, member=member),
        "score": score.pk,
        "rating": rating.pk,
        "doctype": doctype.pk,
        "celldoc": celldoc.pk,
        "remittance": remittance.pk,
        "fund_entry": fund_entry.pk,
        "inspection": inspection.pk,
        "run": run.pk,
        "notification": notification.pk,
        "verify_code": meeting.filed_documents.get(kind="minutes").code,
        "feed_token": feed.token,
        "role": RoleAssignment.objects.get(user=people.member, role=Role.MEMBER).pk,
        "correction": correction.pk,
        "position": position.pk,
        "course": course.pk,
        "attendance": attendance.pk,
        "candidate": candidate.pk,
        "candidate_document": candidate_document.pk,
    }
