"""Meeting services on the real database, with hand-worked expected figures."""

import datetime

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from cells.models import AuditEntry, Member, Notification, Position, Term
from cells.services import member_exempt, member_suspend
from meetings import selectors, services
from meetings.models import AgendaItem, Attendance, Meeting, Resolution, Task, Vote
from tests.factories import make_member

from .conftest import at, hold, plan

pytestmark = pytest.mark.django_db


def adopt_ready(meeting, by=None):
    services.resolution_set(meeting=meeting, kind=Resolution.Kind.CONCLUSION, text="Chi bộ thống nhất.", by=by)
    return services.meeting_adopt_minutes(meeting=meeting, by=by)


# --- planning ------------------------------------------------------------------------------


def test_create_builds_the_regular_agenda_and_logs(meeting, people):
    steps = list(meeting.agenda_items.values_list("step", flat=True))
    assert steps[0] == AgendaItem.Step.OPENING and steps[-1] == AgendaItem.Step.CLOSE
    assert AgendaItem.Step.LAST_RESULTS in steps and AgendaItem.Step.PARTY_WORK in steps
    assert meeting.period_month == meeting.planned_start.date().replace(day=1) or meeting.period_month.day == 1
    assert AuditEntry.objects.filter(action="meetings.meeting.create", object_id=str(meeting.pk)).exists()


def test_end_before_start_is_rejected(tree):
    with pytest.raises(ValidationError) as error:
        services.meeting_create(
            organisation=tree.cell, kind=Meeting.Kind.REGULAR, planned_start=at(3, 16), planned_end=at(3, 14)
        )
    assert "planned_end" in error.value.message_dict
    assert not Meeting.objects.exists()


def test_second_regular_meeting_same_month_rejected_but_extraordinary_allowed(tree, meeting):
    with pytest.raises(ValidationError) as error:
        plan(tree.cell, kind=Meeting.Kind.COMBINED, period_month=meeting.period_month)
    assert "period_month" in error.value.message_dict
    extra = plan(tree.cell, kind=Meeting.Kind.EXTRAORDINARY, period_month=meeting.period_month)
    assert extra.pk
    assert Meeting.objects.count() == 2


def test_cancelled_regular_meeting_frees_the_month(tree, meeting, people):
    services.meeting_cancel(meeting=meeting, reason="Trùng lịch", by=people.secretary)
    assert plan(tree.cell, period_month=meeting.period_month).pk


def test_open_tasks_of_last_adopted_meeting_appear_in_next_agenda(tree, people, meeting):
    meeting = hold(meeting)
    services.task_create(
        meeting=meeting,
        description="Rà soát hồ sơ đảng viên",
        assignees=[people.members["member"]],
        due_date=timezone.localdate() + datetime.timedelta(days=20),
    )
    done = services.task_create(meeting=meeting, description="Việc đã xong", assignees=[people.members["member"]])
    services.task_update_status(task=done, status=Task.Status.DONE, result="Xong")
    adopt_ready(meeting)
    following = services.meeting_plan_next_month(meeting=meeting, by=people.secretary)
    assert following.period_month.month == (meeting.period_month.month % 12) + 1
    assert following.place == meeting.place
    notes = following.agenda_items.get(step=AgendaItem.Step.LAST_RESULTS).notes
    assert "Rà soát hồ sơ đảng viên" in notes and "Lê Văn Đảng Viên" in notes
    assert "Việc đã xong" not in notes


# --- notice and RSVP ------------------------------------------------------------------------


def test_publish_creates_attendance_marks_exempt_and_notifies(
    tree, people, meeting, mailoutbox, django_capture_on_commit_callbacks
):
    exempt = make_member(organisation=tree.cell, full_name="Đỗ Văn Miễn", email="mien@example.org")
    member_exempt(member=exempt, reason="Tuổi cao", start=datetime.date(2024, 1, 1))
    people.members["member"].email = "dv@example.org"
    people.members["member"].save()
    supervisor = make_member(organisation=tree.sibling, full_name="Ngô Phụ Trách")
    Position.objects.create(
        member=supervisor, organisation=tree.cell, kind=Position.Kind.SUPERVISOR, start=datetime.date(2024, 1, 1)
    )
    with django_capture_on_commit_callbacks(execute=True):
        services.meeting_publish(meeting=meeting, by=people.secretary)
    meeting.refresh_from_db()
    assert meeting.state == Meeting.State.NOTIFIED and meeting.notice_sent_at
    rows = {a.member.full_name: a for a in meeting.attendances.select_related("member")}
    assert set(rows) == {"Trần Thị Bí Thư", "Lê Văn Đảng Viên", "Đỗ Văn Miễn"}
    assert rows["Đỗ Văn Miễn"].presence == Attendance.Presence.EXEMPT
    notified = set(Notification.objects.filter(kind="meetings.notice").values_list("member__full_name", flat=True))
    assert notified == {"Trần Thị Bí Thư", "Lê Văn Đảng Viên"}
    assert Notification.objects.filter(kind="meetings.notice_upper", member=supervisor).exists()
    body = Notification.objects.get(member=people.members["member"], kind="meetings.notice").body
    assert "/sinh-hoat/xac-nhan/" in body and "Phòng họp tầng 2" in body
    assert len(mailoutbox) == 1 and "/sinh-hoat/xac-nhan/" in mailoutbox[0].body
    assert selectors.rsvp_counts(meeting=meeting) == {"yes": 0, "no": 0, "none": 2, "total": 3}


def test_rsvp_by_token_yes_and_no_with_reason(people, meeting):
    services.meeting_publish(meeting=meeting)
    member = people.members["member"]
    token = services.rsvp_token(meeting=meeting, member=member)
    with pytest.raises(ValidationError):
        services.attendance_rsvp(token=token, attending=False, reason="")
    attendance = services.attendance_rsvp(token=token, attending=False, reason="Đi công tác")
    assert attendance.rsvp == Attendance.Rsvp.NO and attendance.rsvp_via == Attendance.Via.LINK
    services.attendance_rsvp(
        token=services.rsvp_token(meeting=meeting, member=people.members["secretary"]), attending=True
    )
    assert selectors.rsvp_counts(meeting=meeting) == {"yes": 1, "no": 1, "none": 0, "total": 2}


def test_rsvp_after_start_rejected(people, meeting):
    services.meeting_publish(meeting=meeting)
    token = services.rsvp_token(meeting=meeting, member=people.members["member"])
    started = timezone.now() - datetime.timedelta(minutes=1)
    Meeting.objects.filter(pk=meeting.pk).update(
        planned_start=started,
        planned_end=started + datetime.timedelta(hours=2),
        period_month=timezone.localdate(started).replace(day=1),
    )
    with pytest.raises(ValidationError, match="đã bắt đầu"):
        services.attendance_rsvp(token=token, attending=True)
    assert Attendance.objects.get(meeting=meeting, member=people.members["member"]).rsvp == Attendance.Rsvp.NONE


def test_tampered_token_rejected(people, meeting):
    services.meeting_publish(meeting=meeting)
    token = services.rsvp_token(meeting=meeting, member=people.members["member"])
    other = services.rsvp_token(meeting=meeting, member=people.members["secretary"])
    forged = other.split(":")[0] + ":" + ":".join(token.split(":")[1:])
    for bad in [token[:-2] + "xx", forged, "rác"]:
        with pytest.raises(ValidationError, match="không hợp lệ"):
            services.attendance_rsvp(token=bad, attending=True)
    assert not Attendance.objects.exclude(rsvp=Attendance.Rsvp.NONE).exists()


def test_changing_place_after_notice_notifies_again(people, meeting):
    services.meeting_publish(meeting=meeting)
    before = Notification.objects.filter(kind="meetings.notice").count()
    services.meeting_update(meeting=meeting, place="Hội trường lớn", by=people.secretary)
    assert Notification.objects.filter(kind="meetings.notice").count() == before * 2
    services.meeting_update(meeting=meeting, topic="Chủ đề mới", by=people.secretary)
    assert Notification.objects.filter(kind="meetings.notice").count() == before * 2


# --- votes ---------------------------------------------------------------------------------


@pytest.fixture
def ten_eligible(tree, people, meeting):
    """A held meeting with 10 eligible voters, plus a probationary, an exempt and a suspended member."""
    for n in range(8):
        make_member(organisation=tree.cell, full_name=f"Đảng Viên {n}")
    make_member(organisation=tree.cell, full_name="Dự Bị", status=Member.Status.PROBATIONARY)
    exempt = make_member(organisation=tree.cell, full_name="Được Miễn")
    member_exempt(member=exempt, reason="Ốm", start=datetime.date(2024, 1, 1))
    suspended = make_member(organisation=tree.cell, full_name="Bị Đình Chỉ")
    member_suspend(member=suspended, reason="Kỷ luật", start=datetime.date(2024, 1, 1))
    return hold(meeting)


def test_eligible_count_is_official_present_not_exempt_nor_suspended(ten_eligible):
    assert selectors.eligible_voters(meeting=ten_eligible).count() == 10


def test_six_of_ten_passes_a_normal_vote(ten_eligible):
    vote = services.vote_record(meeting=ten_eligible, question="Thông qua kết luận", votes_for=6, votes_against=4)
    assert vote.eligible_count == 10 and vote.passed
    assert vote.percent_for == "60%"


def test_five_of_ten_fails_a_normal_vote(ten_eligible):
    assert not services.vote_record(meeting=ten_eligible, question="X", votes_for=5, votes_against=5).passed


def test_admission_needs_two_thirds(ten_eligible):
    six = services.vote_record(
        meeting=ten_eligible, question="Kết nạp A", kind=Vote.Kind.ADMISSION, votes_for=6, votes_against=4
    )
    seven = services.vote_record(
        meeting=ten_eligible, question="Kết nạp B", kind=Vote.Kind.FULL_MEMBERSHIP, votes_for=7, votes_against=3
    )
    assert not six.passed and seven.passed
    assert seven.percent_for == "70%"


def test_counts_over_eligible_rejected(ten_eligible):
    with pytest.raises(ValidationError) as error:
        services.vote_record(meeting=ten_eligible, question="X", votes_for=8, votes_against=2, votes_abstain=1)
    assert "votes_for" in error.value.message_dict
    assert not Vote.objects.exists()


def test_probationary_member_cannot_be_counted_as_voter(ten_eligible):
    probationary = Member.objects.get(full_name="Dự Bị")
    with pytest.raises(ValidationError) as error:
        services.vote_record(meeting=ten_eligible, question="X", votes_for=1, votes_against=0, voters=[probationary])
    assert "Dự Bị" in error.value.message_dict["voters"][0]


def test_absent_member_not_eligible(tree, people, meeting):
    meeting = hold(meeting, presence={people.members["member"].pk: (Attendance.Presence.ABSENT_EXCUSED, "Ốm")})
    assert selectors.eligible_voters(meeting=meeting).count() == 1


# --- adoption ------------------------------------------------------------------------------


def test_completeness_lists_problems_and_blocks_adoption(people, meeting):
    services.meeting_publish(meeting=meeting)
    messages = [p.message for p in services.minutes_completeness(meeting)]
    assert any("kết luận" in m for m in messages)
    assert any("kết thúc thực tế" in m for m in messages)
    assert any("Chưa điểm danh" in m for m in messages)
    with pytest.raises(ValidationError):
        services.meeting_adopt_minutes(meeting=meeting)
    meeting.refresh_from_db()
    assert meeting.state == Meeting.State.NOTIFIED and meeting.minutes_number is None


def test_short_meeting_needs_its_reason_then_is_a_warning(people, meeting):
    """A meeting shorter than 90 minutes (HD 42) blocks adoption until its reason is recorded (issue #14)."""
    meeting = hold(meeting, start_hour=14, end_hour=15)
    services.resolution_set(meeting=meeting, kind=Resolution.Kind.CONCLUSION, text="KL")
    problems = services.minutes_completeness(meeting)
    assert [p.blocking for p in problems if "90 phút" in p.message] == [True]
    with pytest.raises(ValidationError, match="hãy ghi lý do"):
        services.meeting_adopt_minutes(meeting=meeting)
    meeting = services.meeting_update(meeting=meeting, short_reason="Mất điện, kết thúc sớm")
    problems = services.minutes_completeness(meeting)
    assert [p.blocking for p in problems if "90 phút" in p.message] == [False]
    services.meeting_adopt_minutes(meeting=meeting)


def test_an_absent_chair_or_clerk_and_an_end_not_yet_reached_block_adoption(people, meeting, time_machine):
    meeting = hold(meeting)
    services.resolution_set(meeting=meeting, kind=Resolution.Kind.CONCLUSION, text="KL")
    clerk = people.members["member"]
    services.attendance_record(meeting=meeting, presence={clerk.pk: (Attendance.Presence.ABSENT_EXCUSED, "Ốm")})
    messages = [p.message for p in services.minutes_completeness(meeting) if p.blocking]
    assert any("Thư ký Lê Văn Đảng Viên được điểm danh là vắng có lý do" in m for m in messages)
    services.attendance_record(meeting=meeting, presence={clerk.pk: (Attendance.Presence.LATE, "")})
    assert not [p for p in services.minutes_completeness(meeting) if p.blocking]
    # An actual end later than now is refused where it is entered, and blocks adoption if it got in.
    time_machine.move_to(meeting.actual_start + datetime.timedelta(hours=1))
    with pytest.raises(ValidationError, match="không thể ở tương lai"):
        services.meeting_update(meeting=meeting, actual_end=timezone.now() + datetime.timedelta(hours=2))
    Meeting.objects.filter(pk=meeting.pk).update(actual_end=timezone.now() + datetime.timedelta(hours=2))
    meeting.refresh_from_db()
    assert any("chưa đến" in p.message for p in services.minutes_completeness(meeting) if p.blocking)


def test_adoption_numbers_minutes_and_conclusions_within_a_term(tree, people, meeting):
    Term.objects.create(organisation=tree.cell, name="2025–2030", start=datetime.date(2025, 1, 1))
    first = adopt_ready(hold(meeting), by=people.secretary)
    assert first.minutes_reference == "01-BB/CB" and first.resolution.reference == "01-KL/CB"
    second = plan(
        tree.cell, kind=Meeting.Kind.EXTRAORDINARY, chair=people.members["secretary"], clerk=people.members["member"]
    )
    second = hold(second)
    services.resolution_set(meeting=second, kind=Resolution.Kind.RESOLUTION, text="Nghị quyết")
    second = services.meeting_adopt_minutes(meeting=second)
    assert second.minutes_reference == "02-BB/CB" and second.resolution.reference == "01-NQ/CB"
    assert second.term.name == "2025–2030"
    assert Notification.objects.filter(kind="meetings.conclusion").count() == 4
    assert AuditEntry.objects.filter(action="meetings.meeting.adopt").count() == 2


def test_adopted_minutes_cannot_be_edited_only_amended(people, meeting):
    meeting = adopt_ready(hold(meeting))
    attempts = [
        lambda: services.meeting_update(meeting=meeting, topic="Khác"),
        lambda: services.resolution_set(meeting=meeting, kind=Resolution.Kind.CONCLUSION, text="Sửa"),
        lambda: services.vote_record(meeting=meeting, question="X", votes_for=1, votes_against=0),
        lambda: services.attendance_record(meeting=meeting, presence={}),
        lambda: services.opinion_add(meeting=meeting, text="Ý kiến", speaker=people.members["member"]),
    ]
    for attempt in attempts:
        with pytest.raises(ValidationError, match="khóa"):
            attempt()
    amendment = services.amendment_add(
        meeting=meeting, reason="Sai tên", text="Sửa tên người phát biểu", by=people.secretary
    )
    assert AuditEntry.objects.filter(action="meetings.amendment.create", object_id=str(amendment.pk)).exists()
    assert Resolution.objects.get(meeting=meeting).text == "Chi bộ thống nhất."


def test_amendment_before_adoption_refused(meeting):
    with pytest.raises(ValidationError):
        services.amendment_add(meeting=meeting, reason="x", text="y")


# --- documents and tasks -------------------------------------------------------------------

PDF_BYTES = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG_BYTES = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def test_document_type_checked_by_content(meeting):
    document = services.meeting_document_add(
        meeting=meeting, file=SimpleUploadedFile("to-trinh.pdf", PDF_BYTES), title="Tờ trình"
    )
    assert document.size == len(PDF_BYTES)
    with pytest.raises(ValidationError, match="không đúng định dạng"):
        services.meeting_document_add(meeting=meeting, file=SimpleUploadedFile("gia.pdf", PNG_BYTES))
    with pytest.raises(ValidationError, match="Chỉ nhận"):
        services.meeting_document_add(meeting=meeting, file=SimpleUploadedFile("virus.exe", b"MZ" + b"\0" * 100))
    assert meeting.documents.count() == 1


def test_document_too_big_rejected(meeting):
    big = SimpleUploadedFile("lon.pdf", PDF_BYTES + b"0" * (10 * 1024 * 1024))
    with pytest.raises(ValidationError, match="10 MB"):
        services.meeting_document_add(meeting=meeting, file=big)


def test_task_assignees_must_be_of_the_cell(people, meeting):
    meeting = hold(meeting)
    with pytest.raises(ValidationError) as error:
        services.task_create(meeting=meeting, description="Việc", assignees=[people.members["other"]])
    assert "assignees" in error.value.message_dict
    task = services.task_create(meeting=meeting, description="Việc", assignees=[people.members["member"]])
    with pytest.raises(ValidationError):
        services.task_update_status(task=task, status=Task.Status.DONE)
    services.task_update_status(task=task, status=Task.Status.DONE, result="Đã làm")
    assert list(selectors.tasks_of_member(member=people.members["member"])) == [task]
    # The assignment reached the assignee's inbox once (the refused one wrote nothing); its e-mail
    # leaves only after the transaction commits, which a test inside one never does.
    assert list(Notification.objects.filter(kind="meetings.task.assigned").values_list("member_id", flat=True)) == [
        people.members["member"].pk
    ]
    assert mail.outbox == []
