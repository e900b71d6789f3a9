"""The one vote rule (meetings.votes), on hand-worked cells.

Điều lệ Đảng Art. 9.5 and QĐ 294-QĐ/TW §9.3.2 (keeping QĐ 24 §9.3.2): a decision is measured against
the official members summoned, less those attached elsewhere, exempt members who are absent and
suspended members — not against those present. Admission and full membership need two thirds.
"""

import datetime
import subprocess

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from cells.models import Member, Position
from cells.services import member_exempt, member_suspend, position_assign
from meetings import services, votes
from meetings.models import Attendance, Meeting, Resolution, Vote
from meetings.selectors import minutes_context, vote_base
from tests.factories import make_member

from .conftest import hold, plan

pytestmark = pytest.mark.django_db

P = Attendance.Presence
AWAY = (P.ABSENT_EXCUSED, "Đi công tác")


@pytest.fixture
def nine(tree, people):
    """Chi bộ Văn phòng with 9 official members: the secretary, a member and 7 more (Đảng Viên 3..9)."""
    members = [people.members["secretary"], people.members["member"]]
    members += [make_member(organisation=tree.cell, full_name=f"Đảng Viên {n}") for n in range(3, 10)]
    return members


def held_with(tree, people, presence):
    meeting = plan(tree.cell, chair=people.members["secretary"], clerk=people.members["member"])
    return hold(meeting, presence={member.pk: value for member, value in presence.items()})


def record(meeting, votes_for, *, kind=Vote.Kind.OTHER, against=0, abstain=0, **extra):
    return services.vote_record(
        meeting=meeting,
        question="Biểu quyết",
        kind=kind,
        votes_for=votes_for,
        votes_against=against,
        votes_abstain=abstain,
        **extra,
    )


# --- the hand-worked case: 9 official members, 3 away on business ----------------------


def test_three_away_on_business_still_count_four_for_fails_six_for_passes_admission(tree, people, nine):
    meeting = held_with(tree, people, {nine[6]: AWAY, nine[7]: AWAY, nine[8]: AWAY})
    base = vote_base(meeting)
    assert (len(base.official), base.present, base.denominator) == (9, 6, 9)
    assert base.summary == "Số đảng viên chính thức: 9; có mặt có quyền biểu quyết: 6; biểu quyết tính trên: 9"
    four = record(meeting, 4, against=2)
    assert four.eligible_count == 9 and four.percent_for == "44,4%" and not four.passed  # 4/9, not 4/6
    admission_four = record(meeting, 4, kind=Vote.Kind.ADMISSION, against=2)
    assert not admission_four.passed  # 4 × 3 = 12 < 2 × 9 = 18
    five = record(meeting, 5, against=1)
    assert five.passed  # 5 × 2 = 10 > 9
    admission_six = record(meeting, 6, kind=Vote.Kind.ADMISSION)
    assert admission_six.passed and admission_six.percent_for == "66,7%"  # 6 × 3 = 18 ≥ 18
    admission_five = record(meeting, 5, kind=Vote.Kind.ADMISSION, against=1)
    assert not admission_five.passed  # 15 < 18


def test_ballots_above_those_present_with_a_vote_are_refused(tree, people, nine):
    meeting = held_with(tree, people, {nine[6]: AWAY, nine[7]: AWAY, nine[8]: AWAY})
    with pytest.raises(ValidationError) as error:
        record(meeting, 6, against=1)  # 7 ballots, 6 present with a vote (the denominator is 9)
    assert "có mặt có quyền biểu quyết (6)" in error.value.message_dict["votes_for"][0]
    assert not Vote.objects.exists()


def test_exempt_member_who_attends_counts_one_who_is_absent_does_not(tree, people, nine):
    member_exempt(member=nine[8], reason="Tuổi cao", start=datetime.date(2020, 6, 1))
    member_exempt(member=nine[7], reason="Điều trị dài ngày", start=datetime.date(2021, 1, 1))
    meeting = plan(tree.cell, chair=people.members["secretary"], clerk=people.members["member"])
    meeting = hold(meeting)  # the exempt rows stay "miễn sinh hoạt"
    services.attendance_record(meeting=meeting, presence={nine[8].pk: (P.PRESENT, "")})  # attends and votes
    base = vote_base(meeting)
    assert [p.name for p in base.exempt_present] == ["Đảng Viên 9"]
    assert [p.name for p in base.exempt_absent] == ["Đảng Viên 8"]
    assert (base.present, base.denominator) == (8, 8)  # 9 official − 1 exempt absent
    vote = record(meeting, 5, against=3)
    assert vote.eligible_count == 8 and vote.passed  # 5/8 > 1/2
    assert "không tính 1 đồng chí miễn sinh hoạt vắng mặt (Đảng Viên 8)" in base.adjustments


def test_probationary_member_present_has_no_vote(tree, people, nine):
    probationary = make_member(organisation=tree.cell, full_name="Dự Bị", status=Member.Status.PROBATIONARY)
    meeting = held_with(tree, people, {})
    base = vote_base(meeting)
    assert (len(base.official), base.present, base.denominator) == (9, 9, 9)
    assert [p.name for p in base.probationary_present] == ["Dự Bị"]
    with pytest.raises(ValidationError) as error:
        record(meeting, 1, voters=[probationary])
    assert "Dự Bị" in error.value.message_dict["voters"][0]
    with pytest.raises(ValidationError):
        record(meeting, 10)  # 10 present, 9 with a vote


def test_attached_elsewhere_and_suspended_are_left_out_even_when_present(tree, people, nine):
    member_suspend(member=nine[8], reason="Bị khởi tố", start=datetime.date(2024, 1, 1))
    meeting = held_with(tree, people, {nine[7]: (P.ATTACHED_ELSEWHERE, "")})  # the suspended one is marked present
    base = vote_base(meeting)
    assert [p.name for p in base.attached_elsewhere] == ["Đảng Viên 8"]
    assert [p.name for p in base.suspended] == ["Đảng Viên 9"]
    assert (base.present, base.denominator) == (7, 7)


def test_a_member_confirmed_after_the_meeting_day_was_probationary_on_it(tree, people, nine):
    meeting = held_with(tree, people, {})
    day = votes.meeting_day(meeting)
    Member.objects.filter(pk=nine[8].pk).update(full_membership_date=day + datetime.timedelta(days=1))
    base = vote_base(meeting)
    assert (len(base.official), base.present, base.denominator) == (8, 8, 8)
    assert [p.name for p in base.probationary_present] == ["Đảng Viên 9"]


def test_quorum_says_whether_those_present_can_carry_a_decision(tree, people, nine):
    # 4 of 9 present with a vote: an ordinary decision needs 5, an admission 6.
    meeting = held_with(tree, people, {member: AWAY for member in nine[4:]})
    base = vote_base(meeting)
    assert (base.present, base.denominator, base.quorum_met) == (4, 9, False)
    assert [(row["needed"], row["met"]) for row in base.quorum] == [(5, False), (6, False)]
    assert "không đủ để thông qua nghị quyết, kết luận (cần ít nhất 5/9 tán thành, trên 1/2)" in base.quorum_text
    services.attendance_record(meeting=meeting, presence={nine[4].pk: (P.PRESENT, "")})
    assert [(row["needed"], row["met"]) for row in vote_base(meeting).quorum] == [(5, True), (6, False)]


def test_thresholds_hand_worked():
    assert [votes.ORDINARY.minimum(n) for n in (1, 2, 3, 9, 10, 20)] == [1, 2, 2, 5, 6, 11]
    assert [votes.TWO_THIRDS.minimum(n) for n in (1, 2, 3, 9, 10, 20)] == [1, 2, 2, 6, 7, 14]
    assert votes.threshold_for(Vote.Kind.FULL_MEMBERSHIP) is votes.TWO_THIRDS
    assert votes.threshold_for(Vote.Kind.OTHER) is votes.ORDINARY
    assert not votes.ORDINARY.passes(10, 20) and votes.ORDINARY.passes(11, 20)
    assert votes.ORDINARY.minimum(0) is None and not votes.TWO_THIRDS.passes(0, 0)


def test_changing_attendance_recounts_the_recorded_votes(tree, people, nine):
    meeting = held_with(tree, people, {})
    vote = record(meeting, 5, against=4)
    assert vote.eligible_count == 9 and vote.passed
    services.attendance_record(
        meeting=meeting, presence={nine[7].pk: (P.ATTACHED_ELSEWHERE, ""), nine[8].pk: (P.ATTACHED_ELSEWHERE, "")}
    )
    vote.refresh_from_db()
    assert vote.eligible_count == 7  # 5/7 still passes; the ballots (9) now exceed the 7 present with a vote
    messages = [p.message for p in services.minutes_completeness(meeting) if p.blocking]
    assert any("nhiều hơn số đảng viên có mặt có quyền biểu quyết (hiện là 7)" in m for m in messages)


def test_the_chi_uy_meeting_counts_its_incumbent_members(tree, people, nine):
    for member, kind in (
        (nine[0], Position.Kind.SECRETARY),
        (nine[1], Position.Kind.DEPUTY_SECRETARY),
        (nine[2], Position.Kind.COMMITTEE_MEMBER),
    ):
        position_assign(member=member, organisation=tree.cell, kind=kind, start=datetime.date(2025, 6, 1))
    meeting = plan(tree.cell, kind=Meeting.Kind.COMMITTEE, chair=nine[0], clerk=nine[1])
    meeting = hold(meeting, presence={nine[2].pk: AWAY})
    base = vote_base(meeting)
    assert base.summary == "Số chi ủy viên: 3; có mặt có quyền biểu quyết: 2; biểu quyết tính trên: 3"
    assert record(meeting, 2).passed  # 2/3 > 1/2


# --- the form, the page, the minutes and their PDF show the same count -------------------------


def test_vote_form_shows_the_count_and_refuses_ballots_above_those_present(client_for, tree, people, nine):
    meeting = held_with(tree, people, {nine[6]: AWAY, nine[7]: AWAY, nine[8]: AWAY})
    client = client_for(people.secretary)
    url = reverse("meetings:vote_add", args=[meeting.pk])
    page = client.get(url).content.decode()
    assert "Số đảng viên chính thức: 9; có mặt có quyền biểu quyết: 6; biểu quyết tính trên: 9" in page
    response = client.post(
        url,
        {
            "question": "Thông qua",
            "kind": Vote.Kind.OTHER,
            "method": Vote.Method.SHOW_OF_HANDS,
            "votes_for": 5,
            "votes_against": 2,
            "votes_abstain": 0,
        },
    )
    assert (
        response.status_code == 200
        and "vượt quá số đảng viên có mặt có quyền biểu quyết (6)" in response.content.decode()
    )
    assert not Vote.objects.exists()
    response = client.post(
        url,
        {
            "question": "Thông qua",
            "kind": Vote.Kind.OTHER,
            "method": Vote.Method.SHOW_OF_HANDS,
            "votes_for": 4,
            "votes_against": 2,
            "votes_abstain": 0,
        },
    )
    assert response.status_code == 302
    detail = client.get(reverse("meetings:detail", args=[meeting.pk])).content.decode()
    assert "4/9" in detail and "Không thông qua" in detail


def test_minutes_and_pdf_print_the_count_and_the_quorum(client_for, tree, people, nine, tmp_path, pdftotext_available):
    meeting = held_with(tree, people, {nine[6]: AWAY, nine[7]: AWAY, nine[8]: AWAY})
    record(meeting, 6, kind=Vote.Kind.OTHER)
    services.resolution_set(meeting=meeting, kind=Resolution.Kind.CONCLUSION, text="Chi bộ thống nhất.")
    services.meeting_adopt_minutes(meeting=meeting)
    context = minutes_context(meeting)
    assert context["vote_base"].denominator == 9
    client = client_for(people.secretary)
    page = " ".join(client.get(reverse("meetings:minutes", args=[meeting.pk])).content.decode().split())
    assert "Số đảng viên chính thức: 9; có mặt có quyền biểu quyết: 6; biểu quyết tính trên: 9" in page
    assert "tán thành 6/9 đồng chí (66,7%)" in page
    response = client.get(reverse("meetings:minutes_pdf", args=[meeting.pk]))
    path = tmp_path / "bien-ban.pdf"
    path.write_bytes(response.content)
    text = " ".join(
        subprocess.run(
            ["pdftotext", "-layout", str(path), "-"], capture_output=True, check=True, text=True
        ).stdout.split()
    )
    assert "biểu quyết tính trên: 9" in text and "tán thành 6/9" in text
    assert "đủ để thông qua nghị quyết, kết luận (cần ít nhất 5/9 tán thành, trên 1/2)" in text
