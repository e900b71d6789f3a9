"""Bad input on the meeting forms: dates and times, attendance, votes — an error on the form or a correct save."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone
from hypothesis import event, given
from hypothesis import strategies as st

from cells.models import AuditEntry
from meetings.models import AgendaItem, Attendance, Meeting, Vote
from tests.meetings.conftest import hold, plan

from .conftest import any_text, assert_rejected_cleanly, number_text, rolled_back, row_counts

pytestmark = pytest.mark.django_db

MEETING_TABLES = (Meeting, AgendaItem, AuditEntry)


@pytest.fixture
def meeting(tree, people):
    return plan(
        tree.cell,
        kind=Meeting.Kind.THEMATIC,
        chair=people.members["secretary"],
        clerk=people.members["member"],
        by=people.secretary,
    )


DATETIME_FORMATS = ("%d/%m/%Y %H:%M", "%d/%m/%Y %H.%M", "%d-%m-%Y %H:%M", "%Y-%m-%d %H:%M")


def vn_datetime(moment: datetime.datetime) -> str:
    return f"{moment.day:02d}/{moment.month:02d}/{moment.year:04d} {moment.hour:02d}:{moment.minute:02d}"


def parse_vn_datetime(text: str) -> datetime.datetime | None:
    for pattern in DATETIME_FORMATS:
        try:
            return timezone.make_aware(datetime.datetime.strptime(text.strip(), pattern))
        except ValueError:
            continue
    return None


def soon(days: int, hour: int) -> str:
    day = timezone.localdate() + datetime.timedelta(days=days)
    return f"{day:%d/%m/%Y} {hour:02d}:00"


ODD_DATETIMES = [
    "01/01/0001 00:00",
    "01/01/0001 06:59",
    "01/01/0001 23:59",
    "31/12/9999 23:59",
    "31/12/9999 00:00",
    "31/02/2026 14:00",
    "05/02/2026 24:00",
    "05/02/2026 14:60",
    "05/02/2026",
    "14:00",
    "05/02/2026 14h",
    "",
    "0001-01-01 00:00",
    "9999-12-31 23:59",
    "05/02/2026 -1:00",
    "05/02/2026 14:00:00",
    "٠٥/٠٢/٢٠٢٦ ١٤:٠٠",
]
datetime_text = st.one_of(
    st.sampled_from(ODD_DATETIMES),
    st.datetimes().map(vn_datetime),
    st.integers(min_value=-400, max_value=400).flatmap(
        lambda days: st.integers(min_value=0, max_value=23).map(lambda hour: soon(days, hour))
    ),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=20),
)

meeting_overrides = st.fixed_dictionaries(
    {},
    optional={
        "kind": st.sampled_from([*Meeting.Kind.values, "", "x"]),
        "period_month": st.one_of(
            st.sampled_from(["", "00/2026", "13/2026", "01/0001", "12/9999", "02/2026"]), st.text(max_size=10)
        ),
        "planned_start": datetime_text,
        "planned_end": datetime_text,
        "place": any_text,
        "mode": st.sampled_from([*Meeting.Mode.values, "", "x"]),
        "online_link": st.one_of(
            st.sampled_from(["", "meet.example.vn/abc", "javascript:alert(1)", "http://[::1"]), any_text
        ),
        "topic": any_text,
        "guests": any_text,
    },
)


def meeting_data(**overrides):
    data = {
        "kind": Meeting.Kind.THEMATIC,
        "period_month": "",
        "planned_start": soon(5, 14),
        "planned_end": soon(5, 16),
        "place": "Phòng họp",
        "mode": Meeting.Mode.IN_PERSON,
        "online_link": "",
        "topic": "",
        "chair": "",
        "clerk": "",
        "guests": "",
        "preparatory_meeting": "",
    }
    data.update(overrides)
    return data


def assert_meeting_round_trip(meeting, sent):
    for key in ("planned_start", "planned_end"):
        if key in sent:
            assert meeting.planned_start if key == "planned_start" else meeting.planned_end
            assert getattr(meeting, key) == parse_vn_datetime(sent[key]), key
    for key in ("place", "topic", "guests"):
        if key in sent:
            assert getattr(meeting, key) == sent[key].strip(), key


@given(overrides=meeting_overrides)
def test_meeting_create_saves_the_times_typed_or_says_why_not(client_for, people, tree, overrides):
    client = client_for(people.secretary)
    with rolled_back():
        before = row_counts(*MEETING_TABLES)
        response = client.post(reverse("meetings:create", args=[tree.cell.pk]), meeting_data(**overrides))
        event(f"status {response.status_code}")
        if response.status_code == 302:
            meeting = Meeting.objects.latest("pk")
            assert_meeting_round_trip(meeting, overrides)
            assert client.get(response["Location"]).status_code == 200
        else:
            assert_rejected_cleanly(response, before, *MEETING_TABLES)


@given(overrides=meeting_overrides)
def test_meeting_update_saves_the_times_typed_or_changes_nothing(client_for, people, meeting, overrides):
    client = client_for(people.secretary)
    meeting.refresh_from_db()  # the object may still hold an earlier example's rolled-back values
    with rolled_back():
        before = row_counts(*MEETING_TABLES)
        original = (meeting.planned_start, meeting.planned_end, meeting.place)
        response = client.post(
            reverse("meetings:update", args=[meeting.pk]),
            meeting_data(chair=meeting.chair_id, clerk=meeting.clerk_id, **overrides),
        )
        event(f"status {response.status_code}")
        meeting.refresh_from_db()
        if response.status_code == 302:
            assert_meeting_round_trip(meeting, overrides)
            assert client.get(response["Location"]).status_code == 200
        else:
            assert_rejected_cleanly(response, before, *MEETING_TABLES)
            assert (meeting.planned_start, meeting.planned_end, meeting.place) == original


@pytest.fixture
def held(meeting):
    return hold(meeting)


vote_count = st.one_of(st.integers(min_value=0, max_value=3).map(str), number_text)
vote_overrides = st.fixed_dictionaries(
    {},
    optional={
        "question": any_text,
        "kind": st.sampled_from([*Vote.Kind.values, "x"]),
        "method": st.sampled_from([*Vote.Method.values, ""]),
        "votes_for": vote_count,
        "votes_against": vote_count,
        "votes_abstain": vote_count,
    },
)


@given(overrides=vote_overrides)
def test_vote_counts_are_recorded_or_refused(client_for, people, held, overrides):
    client = client_for(people.secretary)
    posted = {
        "question": "Thông qua kết luận",
        "kind": Vote.Kind.OTHER,
        "method": Vote.Method.SHOW_OF_HANDS,
        "votes_for": "1",
        "votes_against": "0",
        "votes_abstain": "0",
        **overrides,
    }
    votes_for, votes_against, votes_abstain = posted["votes_for"], posted["votes_against"], posted["votes_abstain"]
    question = posted["question"]
    tables = (Vote, AuditEntry)
    with rolled_back():
        before = row_counts(*tables)
        response = client.post(reverse("meetings:vote_add", args=[held.pk]), posted)
        event(f"status {response.status_code}")
        if response.status_code == 302:
            vote = Vote.objects.get(meeting=held)
            counts = (vote.votes_for, vote.votes_against, vote.votes_abstain)
            assert counts == tuple(int(value) for value in (votes_for, votes_against, votes_abstain))
            assert 0 <= sum(counts) <= vote.eligible_count
            assert vote.question == question.strip()
        else:
            assert_rejected_cleanly(response, before, *tables)


presence_value = st.sampled_from([*Attendance.Presence.values, "x", "\x00"])


@given(data=st.data())
def test_attendance_is_recorded_for_everyone_or_for_nobody(client_for, people, held, data):
    client = client_for(people.secretary)
    attendances = list(held.attendances.order_by("pk"))
    posted = {}
    for attendance in attendances:
        posted[f"p_{attendance.member_id}"] = data.draw(presence_value)
        posted[f"r_{attendance.member_id}"] = data.draw(any_text)
    posted[data.draw(st.sampled_from(["p_999999999", "p_abc", "p_-1", "extra"]))] = data.draw(presence_value)
    with rolled_back():
        before = {a.pk: (a.presence, a.absence_reason) for a in held.attendances.all()}
        audit_before = row_counts(AuditEntry)
        response = client.post(reverse("meetings:attendance", args=[held.pk]), posted)
        event(f"status {response.status_code}")
        after = {a.pk: (a.presence, a.absence_reason) for a in held.attendances.all()}
        if response.status_code == 302:
            for attendance in attendances:
                value = posted[f"p_{attendance.member_id}"]
                if value:
                    assert after[attendance.pk][0] == value
        else:
            assert response.status_code == 200
            assert response.context["form"].errors
            assert after == before and row_counts(AuditEntry) == audit_before


def test_a_meeting_in_year_one_is_refused_next_to_the_field(client_for, people, tree):
    # Found by the property above: 01/01/0001 00:00 in Hanoi time is before year 1 in UTC, so the
    # meeting was saved and then could not be read back from PostgreSQL (a 500 on the next page).
    client = client_for(people.secretary)
    response = client.post(
        reverse("meetings:create", args=[tree.cell.pk]),
        meeting_data(planned_start="01/01/0001 00:00", planned_end="01/01/0001 02:00"),
    )
    assert response.status_code == 200
    assert response.context["form"].errors["planned_start"] == ["Năm phải trong khoảng 1900–2100."]
    assert not Meeting.objects.filter(organisation=tree.cell).exists()
