"""A temporary attachment elsewhere (sinh hoạt tạm thời) is a record with dates, and it pre-fills the lists
(issue #19, item 7): the member is outside the attendance base and the decision's count (QĐ 294 §9.3.2)."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from cells import services as cell_services
from cells.models import AuditEntry, TemporaryAttachment
from meetings import services
from meetings.models import Attendance
from meetings.selectors import vote_base
from tests.factories import make_member

from .conftest import hold, plan

pytestmark = pytest.mark.django_db

P = Attendance.Presence


@pytest.fixture
def nine(tree, people):
    members = [people.members["secretary"], people.members["member"]]
    members += [make_member(organisation=tree.cell, full_name=f"Đảng Viên {n}") for n in range(3, 10)]
    return members


def test_an_attachment_on_the_meeting_day_prefills_the_list_and_leaves_the_count(tree, people, nine):
    today = timezone.localdate()
    away = nine[8]
    cell_services.member_attach(
        member=away,
        place="Đảng bộ Trường Chính trị tỉnh",
        reason="Học cao cấp lý luận",
        start=today,
        end=today + datetime.timedelta(days=120),
        by=people.secretary,
    )
    meeting = services.meeting_publish(meeting=plan(tree.cell, days=3, chair=nine[0], clerk=nine[1]))
    assert meeting.attendances.get(member=away).presence == P.ATTACHED_ELSEWHERE
    meeting.refresh_from_db()
    assert meeting.attendance_base == 8  # 9 members, 1 attached elsewhere
    # Held with the other eight present (the attached member's row is kept as the record says).
    meeting = hold(meeting, presence={away.pk: (P.ATTACHED_ELSEWHERE, "")})
    base = vote_base(meeting)
    assert (len(base.official), base.present, base.denominator) == (9, 8, 8)  # 9 official − 1 attached
    five = services.vote_record(
        meeting=meeting, question="Biểu quyết", kind="other", votes_for=5, votes_against=3, votes_abstain=0
    )
    assert five.eligible_count == 8 and five.passed  # 5/8: 10 > 8
    four = services.vote_record(
        meeting=meeting, question="Biểu quyết", kind="other", votes_for=4, votes_against=4, votes_abstain=0
    )
    assert not four.passed  # 4/8 is not more than half
    assert AuditEntry.objects.filter(action="cells.attachment.create").count() == 1


def test_recording_and_ending_an_attachment_updates_the_lists_not_held_yet(tree, people, nine):
    today = timezone.localdate()
    first = services.meeting_publish(meeting=plan(tree.cell, days=3, chair=nine[0], clerk=nine[1]))
    second = services.meeting_publish(meeting=plan(tree.cell, days=40, chair=nine[0], clerk=nine[1]))
    away = nine[5]
    attachment = cell_services.member_attach(
        member=away, place="Chi bộ Ban Tuyên giáo", start=today, by=people.secretary
    )
    assert {a.meeting_id: a.presence for a in Attendance.objects.filter(member=away)} == {
        first.pk: P.ATTACHED_ELSEWHERE,
        second.pk: P.ATTACHED_ELSEWHERE,
    }
    # Back from day 10: the second meeting expects the member again, the first still does not.
    cell_services.attachment_end(attachment=attachment, on=today + datetime.timedelta(days=10), by=people.secretary)
    assert {a.meeting_id: a.presence for a in Attendance.objects.filter(member=away)} == {
        first.pk: P.ATTACHED_ELSEWHERE,
        second.pk: P.BLANK,
    }
    second.refresh_from_db()
    assert second.attendance_base == 9


def test_the_form_refuses_overlaps_and_reversed_dates_and_writes_nothing(tree, people, nine, client_for):
    url = reverse("cells:member_attach", args=[nine[4].pk])
    client = client_for(people.officer)  # the đảng ủy's officer manages member records
    reversed_dates = client.post(url, {"place": "Đảng bộ Sở Y tế", "start": "10/12/2026", "end": "01/12/2026"})
    assert reversed_dates.status_code == 200
    assert "Ngày kết thúc phải sau ngày bắt đầu." in reversed_dates.content.decode()
    assert not TemporaryAttachment.objects.exists()
    ok = client.post(url, {"place": "Đảng bộ Sở Y tế", "start": "01/12/2026", "end": "31/03/2027"})
    assert ok.status_code == 302
    overlap = client.post(url, {"place": "Đảng bộ Sở Nội vụ", "start": "01/02/2027"})
    assert "trong khoảng thời gian này" in overlap.content.decode()
    assert TemporaryAttachment.objects.count() == 1
    page = client.get(reverse("cells:member_detail", args=[nine[4].pk])).content.decode()
    assert "Đảng bộ Sở Y tế" in page and "01/12/2026 – 31/03/2027" in page


def test_a_member_attached_elsewhere_is_not_chased_for_an_answer(tree, people, nine):
    today = timezone.localdate()
    away = nine[8]
    cell_services.member_attach(member=away, place="Đảng bộ Trường Chính trị tỉnh", start=today, by=people.secretary)
    meeting = services.meeting_publish(meeting=plan(tree.cell, days=3, chair=nine[0], clerk=nine[1]))
    from meetings.selectors import rsvp_counts

    assert rsvp_counts(meeting=meeting)["none"] == 8  # the 9 members less the one attached elsewhere
    assert services.rsvp_remind(meeting=meeting, by=people.secretary) == 8
