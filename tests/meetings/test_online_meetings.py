"""Online and hybrid meetings (issue #17 item 3): presence per agenda item, written opinions and votes
from the member's link, measured against the rule's count (meetings.votes, QĐ 294 §9.3.2).

The hand-worked cell: Chi bộ Văn phòng with 9 official members and 1 probationary member summoned to an
online meeting at 14:00–16:00 on 15/12/2026 (Asia/Ho_Chi_Minh). Đảng Viên 9 is away with a reason; X
(Đảng Viên 3) is present for items 1–3 only; Y (Đảng Viên 4) left after item 1. The count is 9 (an
absence with a reason does not shrink it at a cell meeting, §9.3.2); 8 official members are present with a
vote; on item 2, 7 of them may vote (Y left). A question on item 2 needs more than half of 9, i.e. 5 votes
for: 4 for and 3 against fails (4 × 2 = 8 ≤ 9) although 4 is more than half of the 7 who voted; 5 for and
2 against passes (5 × 2 = 10 > 9), 55,6 %.
"""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError
from django.urls import reverse

from cells.models import AuditEntry, Member
from meetings import online, services, votes
from meetings.models import Attendance, Ballot, Meeting, Opinion, Vote, VoteQuestion
from meetings.selectors import minutes_context
from tests.factories import make_member

pytestmark = pytest.mark.django_db

HCM = datetime.timezone(datetime.timedelta(hours=7))
NOTICE = datetime.datetime(2026, 12, 1, 9, 0, tzinfo=HCM)
START = datetime.datetime(2026, 12, 15, 14, 0, tzinfo=HCM)
DURING = datetime.datetime(2026, 12, 15, 14, 20, tzinfo=HCM)
P = Attendance.Presence
C = Ballot.Choice


@pytest.fixture
def cell(tree, people, time_machine):
    """The hand-worked cell and its noticed online meeting; the clock is then at 14:20 during it."""
    time_machine.move_to(NOTICE, tick=False)
    official = [people.members["secretary"], people.members["member"]]
    official += [make_member(organisation=tree.cell, full_name=f"Đảng Viên {n}") for n in range(3, 10)]
    probationary = make_member(organisation=tree.cell, full_name="Dự Bị Mười", status=Member.Status.PROBATIONARY)
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
    time_machine.move_to(DURING, tick=False)
    items = list(meeting.agenda_items.order_by("order", "pk"))
    assert len(items) >= 4
    return type(
        "Cell",
        (),
        {
            "meeting": meeting,
            "official": official,
            "x": official[2],
            "y": official[3],
            "away": official[8],
            "probationary": probationary,
            "items": items,
        },
    )


def token(meeting, member):
    return services.rsvp_token(meeting=meeting, member=member)


def record_presence(cell, by=None):
    """Everyone present but Đảng Viên 9 (away, with a reason); X present for items 1–3, Y left after item 1."""
    presence = {m.pk: (P.PRESENT, "") for m in cell.official + [cell.probationary]}
    presence[cell.away.pk] = (P.ABSENT_EXCUSED, "Đi công tác")
    items = {cell.x.pk: (None, cell.items[2].pk), cell.y.pk: (None, cell.items[0].pk)}
    return services.attendance_record(meeting=cell.meeting, presence=presence, items=items, by=by)


def open_item_2(cell, people):
    return services.vote_question_open(
        meeting=cell.meeting,
        agenda_item=cell.items[1],
        question="Thông qua kế hoạch tháng 01/2027",
        kind=Vote.Kind.OTHER,
        by=people.secretary,
    )


def cast(cell, member, question, choice):
    return services.ballot_cast(token=token(cell.meeting, member), question_id=question.pk, choice=choice)


# --- presence per item -----------------------------------------------------------------------


def test_presence_per_item_is_recorded_and_read(cell, people):
    record_presence(cell, by=people.secretary)
    x = Attendance.objects.get(meeting=cell.meeting, member=cell.x)
    y = Attendance.objects.get(meeting=cell.meeting, member=cell.y)
    assert [x.present_for(item) for item in cell.items[:4]] == [True, True, True, False]
    assert [y.present_for(item) for item in cell.items[:4]] == [True, False, False, False]
    assert x.partial and y.partial
    away = Attendance.objects.get(meeting=cell.meeting, member=cell.away)
    assert not away.present_for(cell.items[0])


def test_items_for_a_member_not_present_or_in_the_wrong_order_are_refused(cell, people):
    services.attendance_record(meeting=cell.meeting, presence={cell.x.pk: (P.PRESENT, "")})
    with pytest.raises(ValidationError) as error:
        services.attendance_record(
            meeting=cell.meeting, presence={}, items={cell.x.pk: (cell.items[3].pk, cell.items[1].pk)}
        )
    assert "phải sau nội dung tham gia" in " ".join(error.value.messages)
    services.attendance_record(meeting=cell.meeting, presence={}, items={cell.x.pk: (cell.items[2].pk, None)})
    x = Attendance.objects.get(meeting=cell.meeting, member=cell.x)
    assert (x.presence, x.joined_item_id) == (P.LATE, cell.items[2].pk)  # joined at item 3: "đến muộn"
    with pytest.raises(ValidationError) as error:
        services.attendance_record(
            meeting=cell.meeting,
            presence={cell.away.pk: (P.ABSENT_UNEXCUSED, "")},
            items={cell.away.pk: (None, cell.items[0].pk)},
        )
    assert "không có mặt" in " ".join(error.value.messages)
    assert Attendance.objects.get(meeting=cell.meeting, member=cell.away).presence == P.BLANK  # nothing half-saved


# --- the window and the one-tap presence ---------------------------------------------------------


def test_the_window_opens_30_minutes_before_and_closes_an_hour_after_the_planned_end(cell, time_machine):
    meeting = cell.meeting
    assert online.window(meeting) == (START - datetime.timedelta(minutes=30), START + datetime.timedelta(hours=3))
    for moment, expected in (
        (datetime.datetime(2026, 12, 15, 13, 29, tzinfo=HCM), False),
        (datetime.datetime(2026, 12, 15, 13, 30, tzinfo=HCM), True),
        (datetime.datetime(2026, 12, 15, 17, 0, tzinfo=HCM), True),
        (datetime.datetime(2026, 12, 15, 17, 1, tzinfo=HCM), False),
    ):
        assert online.window_open(meeting, moment) is expected, moment
    time_machine.move_to(datetime.datetime(2026, 12, 15, 13, 0, tzinfo=HCM), tick=False)
    with pytest.raises(ValidationError) as error:
        services.online_presence_confirm(token=token(meeting, cell.x))
    assert error.value.messages == ["Phòng họp trực tuyến mở từ 13:30 ngày 15/12/2026."]


def test_a_tap_confirms_presence_on_time_or_late(cell, time_machine):
    time_machine.move_to(datetime.datetime(2026, 12, 15, 14, 5, tzinfo=HCM), tick=False)
    on_time = services.online_presence_confirm(token=token(cell.meeting, cell.x))
    assert on_time.presence == P.PRESENT and on_time.confirmed_online_at is not None
    time_machine.move_to(datetime.datetime(2026, 12, 15, 14, 6, tzinfo=HCM), tick=False)
    late = services.online_presence_confirm(token=token(cell.meeting, cell.y))
    assert late.presence == P.LATE
    cell.meeting.refresh_from_db()
    assert cell.meeting.attendance_present == 2
    # Tapping again changes nothing (and writes no second audit row).
    services.online_presence_confirm(token=token(cell.meeting, cell.x))
    assert AuditEntry.objects.filter(action="meetings.attendance.online_confirm").count() == 2


def test_an_in_person_meeting_has_no_online_presence(cell):
    Meeting.objects.filter(pk=cell.meeting.pk).update(mode=Meeting.Mode.IN_PERSON)
    with pytest.raises(ValidationError) as error:
        services.online_presence_confirm(token=token(cell.meeting, cell.x))
    assert "trực tiếp" in error.value.messages[0]
    assert Attendance.objects.get(meeting=cell.meeting, member=cell.x).presence == P.BLANK


# --- the vote on item 2: the hand-worked case ------------------------------------------------------


def test_hand_worked_vote_on_item_2_is_measured_against_nine(cell, people):
    record_presence(cell, by=people.secretary)
    base = votes.vote_base(cell.meeting)
    assert (len(base.official), base.present, base.denominator) == (9, 8, 9)
    eligible = votes.item_voters(cell.meeting, cell.items[1])
    assert len(eligible.voters) == 7 and cell.x.pk in eligible.voter_ids and cell.y.pk not in eligible.voter_ids
    question = open_item_2(cell, people)
    voters = [m for m in cell.official if m.pk in eligible.voter_ids]
    for member in voters[:4]:
        cast(cell, member, question, C.FOR)
    for member in voters[4:]:
        cast(cell, member, question, C.AGAINST)
    vote = services.vote_question_close(question=question, by=people.secretary)
    assert (vote.votes_for, vote.votes_against, vote.votes_abstain, vote.eligible_count) == (4, 3, 0, 9)
    assert vote.method == Vote.Method.ONLINE and vote.threshold == votes.ORDINARY
    assert not vote.passed  # 4 of 9, though 4 of the 7 who voted is more than half
    question.refresh_from_db()
    assert (question.voters_count, question.ballots_count, question.vote) == (7, 7, vote)
    # A second question: one changes their mind before the close, and it passes with 5 of 9.
    second = open_item_2(cell, people)
    for member in voters:
        cast(cell, member, second, C.FOR if member in voters[:4] else C.AGAINST)
    cast(cell, voters[4], second, C.FOR)  # a change before the close
    passed = services.vote_question_close(question=second, by=people.secretary)
    assert (passed.votes_for, passed.votes_against, passed.eligible_count) == (5, 2, 9)
    assert passed.passed and passed.percent_for == "55,6%"
    assert Ballot.objects.filter(question=second).count() == 7  # one ballot per member, changed in place


def test_the_member_who_left_and_the_probationary_member_are_refused(cell, people):
    record_presence(cell, by=people.secretary)
    question = open_item_2(cell, people)
    with pytest.raises(ValidationError) as error:
        cast(cell, cell.y, question, C.FOR)
    assert error.value.messages == [
        "Đồng chí đã rời buổi sinh hoạt sau nội dung 1, trước nội dung này, nên không biểu quyết nội dung này."
    ]
    with pytest.raises(ValidationError) as error:
        cast(cell, cell.probationary, question, C.FOR)
    assert "Đảng viên dự bị không có quyền biểu quyết" in error.value.messages[0]
    with pytest.raises(ValidationError) as error:
        cast(cell, cell.away, question, C.FOR)
    assert "chưa được ghi nhận có mặt" in error.value.messages[0]
    assert not Ballot.objects.exists()
    # X may vote on item 2, not on item 4 (left after item 3).
    cast(cell, cell.x, question, C.FOR)
    item_4 = services.vote_question_open(
        meeting=cell.meeting, agenda_item=cell.items[3], question="Nội dung 4", kind=Vote.Kind.OTHER
    )
    with pytest.raises(ValidationError) as error:
        cast(cell, cell.x, item_4, C.FOR)
    assert "rời buổi sinh hoạt sau nội dung 3" in error.value.messages[0]


def test_ballots_are_secret_and_frozen_at_the_close(cell, people, client_for, client):
    record_presence(cell, by=people.secretary)
    question = open_item_2(cell, people)
    cast(cell, cell.x, question, C.AGAINST)
    cast(cell, people.members["member"], question, C.AGAINST)
    # The chair's page shows how many voted, no count of any choice; the member sees only their own.
    chair = client_for(people.secretary).get(reverse("meetings:online_votes", args=[cell.meeting.pk])).text
    assert "Đã biểu quyết: 2/7" in chair
    assert "Không tán thành: " not in chair and "Tán thành: " not in chair
    client.logout()
    page = client.get(reverse("meetings:rsvp_online", args=[token(cell.meeting, cell.x)])).text
    assert "Lựa chọn của đồng chí: <strong>Không tán thành</strong>" in page
    assert "2/7" not in page
    # The audit rows say a ballot was cast, never what it says.
    entries = AuditEntry.objects.filter(action="meetings.ballot.cast")
    assert entries.count() == 2 and all("against" not in str(e.after) for e in entries)
    vote = services.vote_question_close(question=question, by=people.secretary)
    assert (vote.votes_for, vote.votes_against) == (0, 2)
    with pytest.raises(ValidationError) as error:
        cast(cell, cell.x, question, C.FOR)
    assert error.value.messages == ["Biểu quyết đã kết thúc; không thể biểu quyết hoặc thay đổi nữa."]
    assert Ballot.objects.get(question=question, member=cell.x).choice == C.AGAINST
    with pytest.raises(ValidationError):
        services.vote_question_close(question=question, by=people.secretary)
    assert Vote.objects.count() == 1


def test_a_ballot_of_a_member_marked_gone_before_the_close_is_not_counted(cell, people):
    record_presence(cell, by=people.secretary)
    question = open_item_2(cell, people)
    other = cell.official[4]
    cast(cell, other, question, C.FOR)
    services.attendance_record(meeting=cell.meeting, presence={}, items={other.pk: (None, cell.items[0].pk)})
    vote = services.vote_question_close(question=question, by=people.secretary)
    assert (vote.votes_for, vote.eligible_count) == (0, 9)


def test_forged_posts_are_refused(cell, people, client):
    record_presence(cell, by=people.secretary)
    question = open_item_2(cell, people)
    ballot_url = reverse("meetings:rsvp_ballot", args=[token(cell.meeting, cell.y), question.pk])
    response = client.post(ballot_url, {"choice": "for"})
    assert response.status_code == 302
    assert not Ballot.objects.exists()
    follow = client.get(response.url).text
    assert "Đồng chí đã rời buổi sinh hoạt sau nội dung 1" in follow
    # The probationary member, a bogus choice, a tampered token, another meeting's question.
    client.post(
        reverse("meetings:rsvp_ballot", args=[token(cell.meeting, cell.probationary), question.pk]), {"choice": "for"}
    )
    client.post(reverse("meetings:rsvp_ballot", args=[token(cell.meeting, cell.x), question.pk]), {"choice": "yes!"})
    bad = client.post(
        reverse("meetings:rsvp_ballot", args=[token(cell.meeting, cell.x) + "x", question.pk]), {"choice": "for"}
    )
    assert bad.status_code == 400
    assert not Ballot.objects.exists()
    client.post(reverse("meetings:rsvp_ballot", args=[token(cell.meeting, cell.x), question.pk]), {"choice": "for"})
    assert Ballot.objects.get().member == cell.x
    # A plain member cannot open or close a question.
    member_client = client
    member_client.force_login(people.member, backend="django.contrib.auth.backends.ModelBackend")
    close = reverse("meetings:online_vote_close", args=[cell.meeting.pk, question.pk])
    assert member_client.post(close).status_code == 403
    assert VoteQuestion.objects.get(pk=question.pk).is_open


def test_a_close_that_fails_leaves_the_question_open_and_no_vote(cell, people):
    question = open_item_2(cell, people)  # nobody is recorded present: the vote has nobody to count
    with pytest.raises(ValidationError):
        services.vote_question_close(question=question, by=people.secretary)
    question.refresh_from_db()
    assert question.is_open and question.vote is None and question.voters_count == 0
    assert not Vote.objects.exists()


def test_one_ballot_per_member_is_kept_by_the_database(cell, people):
    record_presence(cell, by=people.secretary)
    question = open_item_2(cell, people)
    ballot = cast(cell, cell.x, question, C.FOR)
    with pytest.raises(IntegrityError):
        Ballot.objects.create(
            question=question, member=cell.x, choice=C.AGAINST, cast_at=ballot.cast_at, changed_at=ballot.cast_at
        )


# --- written opinions and the minutes ---------------------------------------------------------------


def test_written_opinions_from_the_link_become_opinions(cell, people):
    opinion = services.online_opinion_add(
        token=token(cell.meeting, cell.probationary), agenda_item_id=cell.items[1].pk, text="Đề nghị bổ sung chỉ tiêu"
    )
    assert (opinion.speaker, opinion.agenda_item, opinion.in_writing) == (cell.probationary, cell.items[1], True)
    with pytest.raises(ValidationError) as error:
        services.online_opinion_add(token=token(cell.meeting, cell.x), agenda_item_id="999999", text="x")
    assert "agenda_item" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        services.online_opinion_add(token=token(cell.meeting, cell.x), agenda_item_id=cell.items[1].pk, text="  ")
    assert "text" in error.value.message_dict
    assert Opinion.objects.count() == 1


def test_the_minutes_carry_presence_per_item_written_opinions_and_the_count(cell, people, pdftotext_available):
    import subprocess

    from meetings import documents

    record_presence(cell, by=people.secretary)
    services.online_opinion_add(
        token=token(cell.meeting, cell.x), agenda_item_id=cell.items[1].pk, text="Nhất trí với kế hoạch"
    )
    question = open_item_2(cell, people)
    eligible = votes.item_voters(cell.meeting, cell.items[1])
    for member in [m for m in cell.official if m.pk in eligible.voter_ids][:5]:
        cast(cell, member, question, C.FOR)
    services.vote_question_close(question=question, by=people.secretary)
    context = minutes_context(cell.meeting)
    assert context["partial_presence"] == [
        "đồng chí Đảng Viên 3: có mặt đến hết nội dung 3",
        "đồng chí Đảng Viên 4: có mặt đến hết nội dung 1",
    ]
    pdf = documents.minutes_pdf(cell.meeting)
    text = subprocess.run(["pdftotext", "-layout", "-", "-"], input=pdf, capture_output=True, check=True).stdout
    text = " ".join(text.decode().split())
    assert "Có mặt không trọn buổi: đồng chí Đảng Viên 3: có mặt đến hết nội dung 3" in text
    assert "Đồng chí Đảng Viên 3 (ý kiến bằng văn bản): Nhất trí với kế hoạch" in text
    assert "tán thành 5/9 đồng chí (55,6%)" in text
    assert "biểu quyết trực tuyến ở nội dung 2" in text and "5/7 đồng chí có mặt ở nội dung này" in text
    assert "Kết quả: thông qua" in text


# --- the pages ---------------------------------------------------------------------------------------


def test_the_secretary_sets_presence_per_item_on_the_attendance_page(cell, people, client_for):
    client = client_for(people.secretary)
    url = reverse("meetings:attendance", args=[cell.meeting.pk])
    page = client.get(url).text
    assert f'name="j_{cell.x.pk}"' in page and f'name="l_{cell.x.pk}"' in page and "Rời sau" in page
    data = {f"p_{m.pk}": "present" for m in cell.official + [cell.probationary]}
    data[f"p_{cell.away.pk}"], data[f"r_{cell.away.pk}"] = "absent_excused", "Đi công tác"
    data[f"l_{cell.x.pk}"] = str(cell.items[2].pk)
    data[f"j_{cell.y.pk}"] = str(cell.items[1].pk)
    assert client.post(url, data).status_code == 302
    x = Attendance.objects.get(meeting=cell.meeting, member=cell.x)
    y = Attendance.objects.get(meeting=cell.meeting, member=cell.y)
    assert (x.presence, x.left_item_id) == (P.PRESENT, cell.items[2].pk)
    assert (y.presence, y.joined_item_id) == (P.LATE, cell.items[1].pk)  # joined at item 2: late
    # Leaving before joining is refused next to the form, and nothing is written.
    data[f"j_{cell.x.pk}"] = str(cell.items[3].pk)
    response = client.post(url, data)
    assert response.status_code == 200 and "phải sau nội dung tham gia" in response.text
    assert Attendance.objects.get(meeting=cell.meeting, member=cell.x).joined_item_id is None


def test_the_member_room_and_the_chair_page(cell, people, client, client_for, django_assert_max_num_queries):
    link = reverse("meetings:rsvp", args=[token(cell.meeting, cell.x)])
    room = reverse("meetings:rsvp_online", args=[token(cell.meeting, cell.x)])
    assert room in client.get(link).text  # the notice's page leads to the room inside the window
    assert "Xác nhận có mặt" in client.get(room).text
    response = client.post(reverse("meetings:rsvp_presence", args=[token(cell.meeting, cell.x)]))
    assert response.status_code == 302 and "Đã ghi nhận đồng chí có mặt (đến muộn)" in client.get(room).text
    record_presence(cell, by=people.secretary)
    # The chair opens a question from the page; an empty question is refused next to the field.
    chair = client_for(people.secretary)
    votes_url = reverse("meetings:online_votes", args=[cell.meeting.pk])
    refused = chair.post(votes_url, {"agenda_item": cell.items[1].pk, "question": "", "kind": "other"})
    assert refused.status_code == 200 and not VoteQuestion.objects.exists()
    opened = chair.post(votes_url, {"agenda_item": cell.items[1].pk, "question": "Thông qua kế hoạch", "kind": "other"})
    assert opened.status_code == 302
    question = VoteQuestion.objects.get()
    client.logout()
    with django_assert_max_num_queries(30):
        page = client.get(room).text
    assert f'action="{reverse("meetings:rsvp_ballot", args=[token(cell.meeting, cell.x), question.pk])}"' in page
    client.post(reverse("meetings:rsvp_ballot", args=[token(cell.meeting, cell.x), question.pk]), {"choice": "for"})
    # Y, who left after item 1, sees why they cannot vote, and no ballot button.
    y_page = client.get(reverse("meetings:rsvp_online", args=[token(cell.meeting, cell.y)])).text
    assert "rời buổi sinh hoạt sau nội dung 1" in y_page
    assert reverse("meetings:rsvp_ballot", args=[token(cell.meeting, cell.y), question.pk]) not in y_page
    chair = client_for(people.secretary)
    with django_assert_max_num_queries(40):
        chair_page = chair.get(votes_url).text
    assert "Đã biểu quyết: 1/7" in chair_page and "biểu quyết tính trên: 9" in chair_page
    assert "không đủ để" in chair_page or "đủ để" in chair_page  # the §9.3 quorum line
    close = reverse("meetings:online_vote_close", args=[cell.meeting.pk, question.pk])
    assert chair.post(close).status_code == 302
    assert "tán thành 1/9" in chair.get(votes_url).text
    # The member's written opinion from the room.
    client.logout()
    posted = client.post(
        reverse("meetings:rsvp_opinion", args=[token(cell.meeting, cell.x)]),
        {"agenda_item": cell.items[1].pk, "text": "Đề nghị làm rõ tiến độ"},
    )
    assert posted.status_code == 302 and Opinion.objects.get().in_writing
    empty = client.post(
        reverse("meetings:rsvp_opinion", args=[token(cell.meeting, cell.x)]), {"agenda_item": cell.items[1].pk}
    )
    assert empty.status_code == 200 and "is-invalid" in empty.text and Opinion.objects.count() == 1


def test_an_open_question_stops_the_adoption(cell, people):
    from meetings.completeness import minutes_completeness

    record_presence(cell, by=people.secretary)
    open_item_2(cell, people)
    assert any("Biểu quyết trực tuyến chưa kết thúc" in p.message for p in minutes_completeness(cell.meeting))


def test_a_logged_in_member_finds_the_room_on_the_meeting_page(cell, people, client_for):
    page = client_for(people.member).get(reverse("meetings:detail", args=[cell.meeting.pk])).text
    room = reverse("meetings:rsvp_online", args=[token(cell.meeting, people.members["member"])])
    assert room in page


def test_a_late_meeting_keeps_its_window_past_midnight_and_new_year():
    """21:30–23:30 on 31/12/2026 (Asia/Ho_Chi_Minh), no end recorded: open until 00:30 on 01/01/2027."""
    start = datetime.datetime(2026, 12, 31, 21, 30, tzinfo=HCM)
    meeting = Meeting(
        mode=Meeting.Mode.HYBRID,
        state=Meeting.State.NOTIFIED,
        planned_start=start,
        planned_end=start + datetime.timedelta(hours=2),
    )
    assert online.window_open(meeting, datetime.datetime(2027, 1, 1, 0, 30, tzinfo=HCM))
    assert not online.window_open(meeting, datetime.datetime(2027, 1, 1, 0, 31, tzinfo=HCM))
    assert online.arrival_presence(meeting, datetime.datetime(2026, 12, 31, 21, 35, tzinfo=HCM)) == "present"
    assert online.arrival_presence(meeting, datetime.datetime(2026, 12, 31, 21, 36, tzinfo=HCM)) == "late"
    # Once the actual end is recorded, the window closes there.
    meeting.actual_start, meeting.actual_end = start, datetime.datetime(2026, 12, 31, 23, 0, tzinfo=HCM)
    assert not online.window_open(meeting, datetime.datetime(2026, 12, 31, 23, 1, tzinfo=HCM))
    meeting.state = Meeting.State.MINUTES_ADOPTED
    assert not online.window_open(meeting, datetime.datetime(2026, 12, 31, 22, 0, tzinfo=HCM))


@pytest.mark.django_db(transaction=True)
def test_ballots_cast_while_the_chair_closes_are_counted_or_refused_never_lost(cell, people):
    """Seven members tap at the moment the chair closes (PostgreSQL row locks on the meeting and the question):
    every ballot is either in the result or refused as too late, and one member's two taps make one ballot."""
    import threading

    from django.db import connection

    from tests.conftest import require_or_skip

    require_or_skip(connection.vendor == "postgresql", "concurrent transactions need PostgreSQL")
    record_presence(cell, by=people.secretary)
    question = open_item_2(cell, people)
    voters = [m for m in cell.official if m.pk in votes.item_voters(cell.meeting, cell.items[1]).voter_ids]
    jobs = [("cast", member) for member in voters] + [("cast", voters[0]), ("close", None)]
    barrier = threading.Barrier(len(jobs))
    refused, errors = [], []

    def run(job):
        what, member = job
        try:
            barrier.wait()
            if what == "close":
                services.vote_question_close(question=question, by=people.secretary)
            else:
                cast(cell, member, question, C.FOR)
        except ValidationError as error:
            refused.append(error.messages)
        except Exception as exc:  # surfaced below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(job,)) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    question.refresh_from_db()
    vote = question.vote
    ballots = Ballot.objects.filter(question=question).count()
    assert vote is not None and vote.votes_for == question.ballots_count == ballots <= 7
    assert Ballot.objects.filter(question=question, member=voters[0]).count() <= 1
    assert all(messages == ["Biểu quyết đã kết thúc; không thể biểu quyết hoặc thay đổi nữa."] for messages in refused)
