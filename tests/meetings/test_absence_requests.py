"""Before the meeting (issue #17 item 2): a member asks to be excused, the cell accepts or refuses, the
answer reaches the member and pre-fills attendance; members register to speak and comment on the draft.

The clock is fixed with time_machine: 01/12/2026 09:00 local; the meeting is at 14:00 on 15/12/2026.
The cell has 5 official members summoned (the secretary, the member and three more).
"""

import datetime

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from cells.models import AuditEntry, Member, Notification, Role
from meetings import selectors, services
from meetings.models import AbsenceRequest, Attendance, DraftComment, Meeting, Resolution, SpeakRequest
from tests.factories import UserFactory, grant, make_member

pytestmark = pytest.mark.django_db

HCM = datetime.timezone(datetime.timedelta(hours=7))
NOW = datetime.datetime(2026, 12, 1, 9, 0, tzinfo=HCM)
START = datetime.datetime(2026, 12, 15, 14, 0, tzinfo=HCM)
P = Attendance.Presence
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\n%%EOF\n"


@pytest.fixture(autouse=True)
def now(time_machine):
    time_machine.move_to(NOW, tick=False)
    return NOW


@pytest.fixture
def meeting(tree, people):
    """A noticed regular meeting of the cell, 5 official members summoned."""
    Member.objects.filter(pk=people.members["member"].pk).update(email="dangvien@example.vn")
    for n in range(3):
        make_member(organisation=tree.cell, full_name=f"Đảng Viên {n}")
    meeting = services.meeting_create(
        organisation=tree.cell,
        kind=Meeting.Kind.REGULAR,
        planned_start=START,
        planned_end=START + datetime.timedelta(hours=2),
        period_month=datetime.date(2026, 12, 1),
        place="Phòng họp tầng 2",
        chair=people.members["secretary"],
        clerk=people.members["secretary"],
        by=people.secretary,
    )
    return services.meeting_publish(meeting=meeting, by=people.secretary)


@pytest.fixture
def member(people):
    people.members["member"].refresh_from_db()
    return people.members["member"]


def token_of(meeting, member):
    return services.rsvp_token(meeting=meeting, member=member)


def counts(meeting) -> tuple[int, int, int]:
    meeting.refresh_from_db()
    return meeting.attendance_present, meeting.attendance_base, meeting.attendance_unexcused


def row(meeting, member) -> Attendance:
    return Attendance.objects.get(meeting=meeting, member=member)


def file_request(meeting, member, **fields):
    fields.setdefault("reason_type", AbsenceRequest.ReasonType.ILLNESS)
    fields.setdefault("reason", "Sốt cao, bác sĩ cho nghỉ")
    return services.absence_request_file(meeting=meeting, member=member, **fields)


def test_a_member_files_from_the_token_page_without_logging_in_and_it_is_pending(client, meeting, member):
    url = reverse("meetings:rsvp_absence", args=[token_of(meeting, member)])
    page = client.get(url)
    assert page.status_code == 200 and "Xin vắng có lý do" in page.text and "Ốm đau" in page.text
    # The RSVP page links to it.
    assert url in client.get(reverse("meetings:rsvp", args=[token_of(meeting, member)])).text
    response = client.post(
        url,
        {
            "reason_type": "illness",
            "reason": "Sốt cao, bác sĩ cho nghỉ",
            "evidence": SimpleUploadedFile("giay-kham.pdf", PDF),
        },
    )
    assert response.status_code == 302 and response.url == url
    request = AbsenceRequest.objects.get()
    assert (request.meeting, request.member, request.state) == (meeting, member, AbsenceRequest.State.PENDING)
    assert request.attendance_reason == "Ốm đau: Sốt cao, bác sĩ cho nghỉ"
    assert (
        request.evidence.name.startswith(f"meetings/{meeting.pk}/xin-vang/")
        and "giay-kham" not in request.evidence.name
    )
    assert AuditEntry.objects.filter(action="meetings.absence_request.create", object_id=str(request.pk)).exists()
    # Filing changes no attendance: the row is as it was, the counts too.
    assert (row(meeting, member).presence, row(meeting, member).absence_reason) == (P.BLANK, "")
    assert counts(meeting) == (0, 5, 0)
    assert "Chờ quyết định" in client.get(url).text


def test_a_logged_in_member_files_from_the_meeting_page(client_for, meeting, people, member):
    client = client_for(people.member)
    detail = client.get(reverse("meetings:detail", args=[meeting.pk])).text
    url = reverse("meetings:absence_request", args=[meeting.pk])
    assert url in detail
    response = client.post(url, {"reason_type": "work", "reason": "Đi công tác Hà Nội theo quyết định của Sở"})
    assert response.status_code == 302
    assert AbsenceRequest.objects.get().attendance_reason == "Đi công tác: Đi công tác Hà Nội theo quyết định của Sở"
    assert "Đi công tác Hà Nội" in client.get(reverse("meetings:detail", args=[meeting.pk])).text


def test_accepting_prefills_excused_absence_tells_the_member_and_keeps_the_counts_right(
    client_for, meeting, people, member, django_capture_on_commit_callbacks
):
    request = file_request(meeting, member)
    client = client_for(people.secretary)
    detail = client.get(reverse("meetings:detail", args=[meeting.pk])).text
    assert (
        "Sốt cao, bác sĩ cho nghỉ" in detail
        and reverse("meetings:absence_decide", args=[meeting.pk, request.pk]) in detail
    )
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("meetings:absence_decide", args=[meeting.pk, request.pk]),
            {"decision": "accept", "note": "Chúc đồng chí mau khỏe"},
        )
    assert response.status_code == 302
    request.refresh_from_db()
    assert request.state == AbsenceRequest.State.ACCEPTED
    assert request.decided_by == people.secretary and request.decided_at == NOW
    attendance = row(meeting, member)
    assert (attendance.presence, attendance.absence_reason) == (P.ABSENT_EXCUSED, "Ốm đau: Sốt cao, bác sĩ cho nghỉ")
    # Hand-worked: 5 summoned, 1 excused. Present counts present or late (0 before the day); the base is
    # every row but the exempt and those attached elsewhere — an excused absence stays in it (5); no
    # absence without a reason (0).
    assert counts(meeting) == (0, 5, 0)
    # QĐ 294 §9.3.2: an absence with a reason leaves the vote's denominator at the 5 official members.
    assert selectors.vote_base(meeting).denominator == 5
    notice = Notification.objects.get(kind="meetings.absence_request.answer")
    assert notice.member == member and notice.recipient == people.member
    assert notice.subject == "Đồng ý cho vắng: sinh hoạt thường kỳ 14:00 ngày 15/12/2026"
    assert "Chúc đồng chí mau khỏe" in notice.body
    assert [m.to for m in mail.outbox] == [["dangvien@example.vn"]]
    assert mail.outbox[0].subject == notice.subject
    assert AuditEntry.objects.filter(action="meetings.absence_request.accept", object_id=str(request.pk)).exists()
    assert AuditEntry.objects.filter(action="meetings.attendance.record", object_id=str(attendance.pk)).exists()
    # On the day the other four come: 4 present out of 5.
    others = meeting.attendances.exclude(member=member)
    services.attendance_record(
        meeting=meeting, presence={a.member_id: (P.PRESENT, "") for a in others}, by=people.secretary
    )
    assert counts(meeting) == (4, 5, 0)
    # The pre-fill is a default, not a lock: the member came after all.
    services.attendance_record(meeting=meeting, presence={member.pk: (P.PRESENT, "")}, by=people.secretary)
    assert row(meeting, member).presence == P.PRESENT
    assert counts(meeting) == (5, 5, 0)


def test_the_answer_is_e_mailed_to_a_member_who_turned_reminders_off(
    meeting, people, member, django_capture_on_commit_callbacks
):
    Member.objects.filter(pk=member.pk).update(optional_reminder_email=False)
    request = file_request(meeting, member)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.absence_request_decide(request=request, accept=False, by=people.secretary)
    assert [m.to for m in mail.outbox] == [["dangvien@example.vn"]]


def test_refusing_leaves_attendance_untouched(client_for, meeting, people, member):
    request = file_request(meeting, member)
    response = client_for(people.secretary).post(
        reverse("meetings:absence_decide", args=[meeting.pk, request.pk]),
        {"decision": "refuse", "note": "Buổi họp có nội dung kết nạp đảng viên"},
    )
    assert response.status_code == 302
    request.refresh_from_db()
    assert request.state == AbsenceRequest.State.REFUSED and request.answer_note.startswith("Buổi họp")
    attendance = row(meeting, member)
    assert (attendance.presence, attendance.absence_reason) == (P.BLANK, "")
    assert counts(meeting) == (0, 5, 0)
    notice = Notification.objects.get(kind="meetings.absence_request.answer", member=member)
    assert notice.subject.startswith("Không đồng ý cho vắng")
    assert "Đề nghị đồng chí tham dự" in notice.body and "kết nạp đảng viên" in notice.body
    # A decided request is not decided twice.
    with pytest.raises(ValidationError):
        services.absence_request_decide(request=request, accept=True, by=people.secretary)
    assert row(meeting, member).presence == P.BLANK


def test_one_open_request_per_member_and_meeting(meeting, people, member):
    first = file_request(meeting, member)
    with pytest.raises(ValidationError, match="đang chờ quyết định"):
        file_request(meeting, member, reason="Lần hai")
    services.absence_request_decide(request=first, accept=False, by=people.secretary)
    second = file_request(meeting, member, reason_type="family", reason="Con ốm")
    services.absence_request_decide(request=second, accept=True, by=people.secretary)
    with pytest.raises(ValidationError, match="đã được đồng ý"):
        file_request(meeting, member, reason="Lần ba")
    assert AbsenceRequest.objects.count() == 2


def test_a_member_not_summoned_is_refused_clearly_and_nothing_is_saved(client_for, meeting, tree, people):
    # Joined the cell after the notice went out: no attendance row on this meeting.
    late = make_member(organisation=tree.cell, full_name="Vũ Văn Mới")
    user = UserFactory(username="moi")
    grant(user, tree.cell, Role.MEMBER)
    Member.objects.filter(pk=late.pk).update(user=user)
    response = client_for(user).post(
        reverse("meetings:absence_request", args=[meeting.pk]), {"reason_type": "work", "reason": "Công tác"}
    )
    assert response.status_code == 200
    assert "không có trong danh sách triệu tập" in response.text
    with pytest.raises(ValidationError, match="không có trong danh sách triệu tập"):
        file_request(meeting, people.members["sibling"])
    assert not AbsenceRequest.objects.exists()


def test_an_exempt_member_needs_no_request(meeting, member):
    Attendance.objects.filter(meeting=meeting, member=member).update(presence=P.EXEMPT)
    with pytest.raises(ValidationError, match="không cần xin vắng"):
        file_request(meeting, member)
    assert not AbsenceRequest.objects.exists()


def test_a_meeting_started_or_held_takes_no_request(client, meeting, people, member, time_machine):
    url = reverse("meetings:rsvp_absence", args=[token_of(meeting, member)])
    time_machine.move_to(START, tick=False)
    response = client.post(url, {"reason_type": "illness", "reason": "Ốm"})
    assert response.status_code == 200 and "đã bắt đầu" in response.text
    services.meeting_record_held(meeting=meeting, actual_start=START, by=people.secretary)
    response = client.post(url, {"reason_type": "illness", "reason": "Ốm"})
    assert response.status_code == 200 and "đã họp" in response.text
    assert "không còn nhận đơn xin vắng" in client.get(url).text
    assert not AbsenceRequest.objects.exists()


def test_evidence_of_the_wrong_type_is_refused_on_its_field(client, meeting, member):
    url = reverse("meetings:rsvp_absence", args=[token_of(meeting, member)])
    response = client.post(
        url, {"reason_type": "illness", "reason": "Ốm", "evidence": SimpleUploadedFile("giay.pdf", b"MZ not a pdf")}
    )
    assert response.status_code == 200 and "không đúng định dạng PDF" in response.text
    response = client.post(url, {"reason_type": "illness", "reason": ""})
    assert response.status_code == 200 and list(response.context["form"].errors) == ["reason"]
    assert not AbsenceRequest.objects.exists()


def test_another_cells_secretary_gets_404_and_a_plain_member_403(client_for, meeting, people, member):
    request = file_request(meeting, member, evidence=SimpleUploadedFile("giay.pdf", PDF))
    decide = reverse("meetings:absence_decide", args=[meeting.pk, request.pk])
    evidence = reverse("meetings:absence_evidence", args=[meeting.pk, request.pk])
    assert client_for(people.other_secretary).post(decide, {"decision": "accept"}).status_code == 404
    assert client_for(people.other_secretary).get(evidence).status_code == 404
    assert client_for(people.member).post(decide, {"decision": "accept"}).status_code == 403
    # The cell's clerk role alone (not this meeting's clerk) neither decides nor reads the evidence.
    assert client_for(people.clerk).post(decide, {"decision": "accept"}).status_code == 403
    assert client_for(people.clerk).get(evidence).status_code == 403
    request.refresh_from_db()
    assert request.state == AbsenceRequest.State.PENDING and row(meeting, member).presence == P.BLANK
    # The member who sent it and the secretary read the evidence.
    for user in (people.member, people.secretary):
        response = client_for(user).get(evidence)
        assert response.status_code == 200 and b"".join(response.streaming_content) == PDF


def test_a_member_registers_to_speak_and_the_secretary_sees_it(client_for, meeting, people, member):
    item = meeting.agenda_items.order_by("order")[1]
    url = reverse("meetings:speak_request", args=[meeting.pk, item.pk])
    client = client_for(people.member)
    assert client.post(url).status_code == 302
    assert SpeakRequest.objects.filter(agenda_item=item, member=member).exists()
    assert "Đã đăng ký phát biểu" in client.get(reverse("meetings:detail", args=[meeting.pk])).text
    secretary_page = client_for(people.secretary).get(reverse("meetings:detail", args=[meeting.pk])).text
    assert f"Đăng ký phát biểu: {member.full_name}" in secretary_page
    # The same button withdraws it.
    client_for(people.member).post(url)
    assert not SpeakRequest.objects.exists()


def test_a_member_comments_on_the_draft_conclusion_and_the_secretary_sees_it(client_for, meeting, people, member):
    url = reverse("meetings:draft_comment", args=[meeting.pk])
    text = "Đề nghị bổ sung nhiệm vụ chuyển đổi số vào phần II."
    response = client_for(people.member).post(url, {"text": text})
    assert response.status_code == 200 and "Chưa có dự thảo kết luận" in response.text
    services.resolution_set(
        meeting=meeting, kind=Resolution.Kind.CONCLUSION, text="Dự thảo: tháng 12 tập trung…", by=people.secretary
    )
    client = client_for(people.member)
    assert url in client.get(reverse("meetings:detail", args=[meeting.pk])).text
    assert client.post(url, {"text": text}).status_code == 302
    comment = DraftComment.objects.get()
    assert (comment.meeting, comment.member, comment.text, comment.created_at) == (meeting, member, text, NOW)
    page = client_for(people.secretary).get(reverse("meetings:detail", args=[meeting.pk])).text
    assert "Góp ý của đảng viên về dự thảo" in page and text in page
    with pytest.raises(ValidationError, match="không có trong danh sách triệu tập"):
        services.draft_comment_add(meeting=meeting, member=people.members["sibling"], text="Góp ý")
    assert DraftComment.objects.count() == 1


def test_asking_to_be_excused_answers_the_notice_nobody_is_reminded_of_it(meeting, people, member):
    """Issue #17: nobody gets a reminder for what they already did. 5 summoned, none answered; the member
    asks to be excused: the secretary's reminder reaches the other 4; refused, the member is reminded again."""
    request = file_request(meeting, member)
    assert services.rsvp_remind(meeting=meeting, by=people.secretary) == 4
    assert not Notification.objects.filter(kind="meetings.rsvp.reminder", member=member).exists()
    services.absence_request_decide(request=request, accept=False, by=people.secretary)
    assert services.rsvp_remind(meeting=meeting, by=people.secretary) == 5
    assert Notification.objects.filter(kind="meetings.rsvp.reminder", member=member).count() == 1


def test_the_secretary_hears_of_a_new_request_and_it_waits_on_the_cell_home(client_for, meeting, people, member, tree):
    from cells.models import Position
    from cells.services import position_assign

    position_assign(
        member=people.members["secretary"],
        organisation=tree.cell,
        kind=Position.Kind.SECRETARY,
        start=datetime.date(2026, 1, 1),
    )
    file_request(meeting, member)
    notice = Notification.objects.get(kind="meetings.absence_request.filed")
    assert notice.member == people.members["secretary"]
    assert notice.subject == "Đơn xin vắng của đồng chí Lê Văn Đảng Viên: sinh hoạt thường kỳ 14:00 ngày 15/12/2026"
    assert notice.body.endswith("Lý do: Ốm đau: Sốt cao, bác sĩ cho nghỉ.")
    home = client_for(people.secretary).get(reverse("meetings:cell_home", args=[tree.cell.pk])).text
    assert "Trả lời đơn xin vắng" in home and "Lê Văn Đảng Viên" in home


def test_a_refused_request_is_not_pre_filled_as_an_excused_absence(meeting, people, member):
    """Two members answered "không tham dự"; one of them asked to be excused and was refused. The attendance
    form offers "vắng có lý do" only for the other: the refusal is the cell's answer to that reason."""
    from meetings.forms import AttendanceForm

    other = Member.objects.get(organisation=meeting.organisation, full_name="Đảng Viên 0")
    services.attendance_rsvp(token=token_of(meeting, member), attending=False, reason="Ốm")
    services.attendance_rsvp(token=token_of(meeting, other), attending=False, reason="Đi công tác")
    services.absence_request_decide(request=file_request(meeting, member), accept=False, by=people.secretary)
    form = AttendanceForm(meeting=meeting)
    assert form.fields[f"p_{member.pk}"].initial == ""
    assert form.fields[f"p_{other.pk}"].initial == P.ABSENT_EXCUSED
    assert form.fields[f"r_{other.pk}"].initial == "Đi công tác"
    # A new request, accepted, is the last answer: it is recorded as "vắng có lý do" by the service.
    services.absence_request_decide(
        request=file_request(meeting, member, reason="Nhập viện"), accept=True, by=people.secretary
    )
    assert AttendanceForm(meeting=meeting).fields[f"p_{member.pk}"].initial == P.ABSENT_EXCUSED
