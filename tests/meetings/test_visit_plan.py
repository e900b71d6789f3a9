"""The upper level's visit plan (issue #18, item 3): a đảng ủy cơ sở assigns its committee members to its
cells for a quarter, the visitor confirms a meeting (he becomes its upper-level guest, which the visit
indicator of meetings.indicators counts) and writes an observation card once the meeting is held.

The hand-built đảng bộ: Đảng bộ Sở Tài chính with three cells — Văn phòng, Kế toán and Kho bạc. In the
first quarter of 2026 Kế toán was visited (a held meeting with an upper-level guest), Kho bạc has a
committee member assigned, Văn phòng has neither: the plan lists exactly Văn phòng as "chưa phân công".
The clock stands at 10/02/2026 10:00 in Hà Nội unless a test moves it.
"""

import datetime
import zoneinfo

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from cells import services as cell_services
from cells.models import AuditEntry, Position, Role
from meetings import indicators, services
from meetings.models import Meeting, VisitAssignment, VisitObservation
from meetings.selectors import PlanRow, visit_observations_of, visit_plan
from tests.factories import UserFactory, grant, make_member, make_organisation
from tests.meetings.conftest import hold, plan
from tests.scoring.conftest import build_meeting, local

pytestmark = pytest.mark.django_db

HCM = zoneinfo.ZoneInfo("Asia/Ho_Chi_Minh")
NOW = datetime.datetime(2026, 2, 10, 10, 0, tzinfo=HCM)
Q1 = datetime.date(2026, 1, 1)


@pytest.fixture
def clock(time_machine):
    time_machine.move_to(NOW, tick=False)
    return time_machine


@pytest.fixture
def bo(clock, tree, people):
    """The đảng bộ's three cells, its two committee members (đảng ủy viên phụ trách) and their accounts."""
    treasury = make_organisation(parent=tree.tccs, kind=tree.cell.kind, name="Chi bộ Kho bạc", short_code="CB")
    make_member(organisation=tree.sibling, full_name="Vũ Thị Kế Toán Hai")
    guest = make_member(organisation=treasury, full_name="Đỗ Văn Kho Bạc")
    make_member(organisation=treasury, full_name="Mai Thị Thủ Quỹ")
    visitor = people.members["sibling"]  # Phạm Văn Kế Toán, of Kế toán
    visitor.user = UserFactory(username="uyvien")
    visitor.save(update_fields=["user"])
    grant(visitor.user, tree.sibling, Role.MEMBER)
    start = datetime.date(2025, 1, 1)
    # Each is a đảng ủy viên by his post of "Đảng ủy viên phụ trách" of a cell of the đảng bộ.
    cell_services.position_assign(member=visitor, organisation=treasury, kind=Position.Kind.SUPERVISOR, start=start)
    cell_services.position_assign(member=guest, organisation=tree.sibling, kind=Position.Kind.SUPERVISOR, start=start)
    return type("Bo", (), {"treasury": treasury, "visitor": visitor, "guest": guest})


@pytest.fixture
def quarter_state(bo, tree, people):
    """Kế toán visited in Q1 (a held meeting with its upper-level guest); Kho bạc assigned; Văn phòng neither."""
    build_meeting(tree.sibling, start=local(2026, 1, 20), upper_guests=[bo.guest])
    assignment = services.visit_assign(
        upper=tree.tccs, cell=bo.treasury, quarter=Q1, visitor=bo.visitor, by=people.officer
    )
    return assignment


def _plan_url(tree, **query):
    url = reverse("meetings:visit_plan", args=[tree.tccs.pk])
    return url + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


# --- the plan --------------------------------------------------------------------------------


def test_the_plan_lists_exactly_the_unassigned_cell_first_and_counts_right(client_for, tree, bo, quarter_state, people):
    plan_of = visit_plan(upper=tree.tccs, quarter=Q1)
    assert [(row.cell.name, row.state) for row in plan_of["rows"]] == [
        ("Chi bộ Văn phòng", PlanRow.UNASSIGNED),
        ("Chi bộ Kho bạc", PlanRow.ASSIGNED),
        ("Chi bộ Kế toán", PlanRow.VISITED),
    ]
    assert plan_of["counts"] == {"unassigned": 1, "assigned": 1, "visited": 1}
    # The "visited" state is the indicator's: the two cells without a visit are the other two.
    assert set(indicators.cells_without_visit(quarter=Q1, within=tree.tccs)) == {tree.cell, bo.treasury}

    response = client_for(people.officer).get(_plan_url(tree))  # the current quarter by default
    assert response.status_code == 200
    html = response.content.decode()
    assert html.count('data-state="unassigned"') == 1
    assert f'data-cell="{tree.cell.pk}" data-state="unassigned"' in html
    assert 'id="count-unassigned">1<' in html and 'id="count-assigned">1<' in html and 'id="count-visited">1<' in html
    assert "quý 1/2026" in html
    assert "Phạm Văn Kế Toán" in html  # Kho bạc's visitor
    assert "20/01/2026" in html  # Kế toán's meeting of the quarter


def test_the_assignment_form_assigns_a_committee_member_for_the_quarter(client_for, tree, bo, people):
    client = client_for(people.officer)
    url = reverse("meetings:visit_assign", args=[tree.tccs.pk]) + "?nam=2026&quy=1"
    response = client.post(url, {"cell": tree.cell.pk, "visitor": bo.visitor.pk})
    assert response.status_code == 302
    assignment = VisitAssignment.objects.get()
    assert (assignment.upper, assignment.cell, assignment.quarter, assignment.visitor) == (
        tree.tccs,
        tree.cell,
        Q1,
        bo.visitor,
    )
    assert assignment.created_by == people.officer
    assert AuditEntry.objects.filter(action="meetings.visit.assign", object_id=str(assignment.pk)).count() == 1
    # Twice the same person to the same cell in the quarter: refused next to the visitor, nothing more saved.
    again = client.post(url, {"cell": tree.cell.pk, "visitor": bo.visitor.pk})
    assert again.status_code == 200
    assert "đã được phân công dự sinh hoạt chi bộ này trong quý" in again.context["form"].errors["visitor"][0]
    assert VisitAssignment.objects.count() == 1


def test_who_may_be_assigned_and_where(tree, bo, people):
    member_only = people.members["member"]  # no post at the đảng bộ
    with pytest.raises(ValidationError) as refused:
        services.visit_assign(upper=tree.tccs, cell=tree.cell, quarter=Q1, visitor=member_only)
    assert "không phải cấp ủy viên" in refused.value.message_dict["visitor"][0]
    with pytest.raises(ValidationError) as own_cell:
        services.visit_assign(upper=tree.tccs, cell=tree.sibling, quarter=Q1, visitor=bo.visitor)
    assert "sinh hoạt tại chính chi bộ này" in own_cell.value.message_dict["visitor"][0]
    with pytest.raises(ValidationError) as outside:
        services.visit_assign(upper=tree.tccs, cell=tree.other, quarter=Q1, visitor=bo.visitor)
    assert "không trực thuộc" in outside.value.message_dict["cell"][0]
    with pytest.raises(ValidationError) as mid_quarter:
        services.visit_assign(upper=tree.tccs, cell=tree.cell, quarter=datetime.date(2026, 2, 1), visitor=bo.visitor)
    assert "quarter" in mid_quarter.value.message_dict
    assert not VisitAssignment.objects.exists()
    assert not AuditEntry.objects.filter(action__startswith="meetings.visit").exists()


# --- the visitor's confirmation ------------------------------------------------------------------


def test_confirming_adds_the_upper_guest_and_the_indicator_sees_the_visit(client_for, clock, tree, bo, quarter_state):
    meeting = services.meeting_publish(meeting=plan(bo.treasury, days=10))  # 20/02/2026, in Q1
    client = client_for(bo.visitor.user)
    page = client.get(reverse("meetings:my_visits"))
    assert page.status_code == 200
    assert "Chi bộ Kho bạc" in page.content.decode() and "20/02/2026" in page.content.decode()

    response = client.post(reverse("meetings:visit_confirm", args=[quarter_state.pk]), {"meeting": meeting.pk})
    assert response.status_code == 302
    quarter_state.refresh_from_db()
    assert quarter_state.meeting == meeting and quarter_state.confirmed_at is not None
    assert list(meeting.upper_guests.all()) == [bo.visitor]
    assert AuditEntry.objects.filter(action="meetings.visit.confirm").count() == 1
    # Not held yet: not a visit. Once held (the clerk keeps the guest), the indicator counts it.
    assert bo.treasury in indicators.cells_without_visit(quarter=Q1, within=tree.tccs)
    clock.move_to(datetime.datetime(2026, 2, 21, 9, 0, tzinfo=HCM), tick=False)
    hold(meeting)
    assert bo.treasury not in indicators.cells_without_visit(quarter=Q1, within=tree.tccs)
    states = {row.cell: row.state for row in visit_plan(upper=tree.tccs, quarter=Q1)["rows"]}
    assert states[bo.treasury] == PlanRow.VISITED


def test_the_meeting_form_keeps_the_confirmed_visitor(tree, bo, quarter_state):
    """Editing the meeting afterwards offers the assigned visitor, so the guest is not dropped."""
    from meetings.forms import upper_level_members

    assert bo.visitor in upper_level_members(bo.treasury)


@pytest.mark.parametrize("which", ["other_quarter", "other_cell", "chi_uy"])
def test_a_meeting_of_another_quarter_or_cell_is_refused_next_to_it(client_for, tree, bo, quarter_state, which):
    if which == "other_quarter":
        meeting = plan(bo.treasury, days=60)  # 11/04/2026: the second quarter
        expected = "không thuộc quý 1/2026"
    elif which == "other_cell":
        meeting = plan(tree.cell, days=10)
        expected = "không phải của Chi bộ Kho bạc"
    else:
        meeting = plan(bo.treasury, days=5, kind=Meeting.Kind.COMMITTEE)
        expected = "dự sinh hoạt của toàn chi bộ"
    client = client_for(bo.visitor.user)
    response = client.post(reverse("meetings:visit_confirm", args=[quarter_state.pk]), {"meeting": meeting.pk})
    assert response.status_code == 200
    html = response.content.decode()
    card = html[html.index(f'id="visit-{quarter_state.pk}"') :]
    assert expected in card[: card.index("</div></div>")]
    quarter_state.refresh_from_db()
    assert quarter_state.meeting is None and quarter_state.confirmed_at is None
    assert not meeting.upper_guests.exists()
    assert not AuditEntry.objects.filter(action="meetings.visit.confirm").exists()


def test_a_meeting_whose_minutes_are_adopted_is_not_changed(tree, bo, quarter_state, people):
    meeting = build_meeting(bo.treasury, start=local(2026, 1, 15))
    services.meeting_adopt_minutes(meeting=meeting, by=people.officer)
    with pytest.raises(ValidationError) as refused:
        services.visit_confirm(assignment=quarter_state, meeting=meeting)
    assert "Biên bản buổi sinh hoạt đã thông qua" in refused.value.message_dict["meeting"][0]
    assert not meeting.upper_guests.exists()


# --- the observation card ------------------------------------------------------------------------


def test_an_observation_before_the_meeting_is_held_is_refused_and_nothing_saved(
    client_for, clock, tree, bo, quarter_state, people
):
    meeting = services.meeting_publish(meeting=plan(bo.treasury, days=10))
    services.visit_confirm(assignment=quarter_state, meeting=meeting)
    client = client_for(bo.visitor.user)
    url = reverse("meetings:visit_observe", args=[quarter_state.pk])
    card = {"rating": "kha", "strengths": "Chuẩn bị chu đáo", "weaknesses": "Ít ý kiến", "recommendations": "Mời thêm"}
    response = client.post(url, card)
    assert response.status_code == 200
    assert "Buổi sinh hoạt chưa diễn ra" in response.content.decode()
    assert not VisitObservation.objects.exists()
    assert not AuditEntry.objects.filter(action="meetings.visit.observe").exists()

    clock.move_to(datetime.datetime(2026, 2, 21, 9, 0, tzinfo=HCM), tick=False)
    hold(meeting)
    client = client_for(bo.visitor.user)  # the session of 11 days ago has ended
    assert client.post(url, card).url == reverse("meetings:my_visits")
    observation = VisitObservation.objects.get()
    assert (observation.meeting, observation.rating, observation.strengths) == (meeting, "kha", "Chuẩn bị chu đáo")
    # The card is on the meeting's page for the cell's upper level, not for the cell's own secretary.
    detail = client_for(people.officer).get(reverse("meetings:detail", args=[meeting.pk]))
    assert "Chuẩn bị chu đáo" in detail.content.decode()
    treasury_secretary = UserFactory(username="bithu_khobac")
    grant(treasury_secretary, bo.treasury, Role.CELL_SECRETARY)
    assert not visit_observations_of(user=treasury_secretary, meeting=meeting).exists()
    assert list(visit_observations_of(user=people.officer, meeting=meeting)) == [observation]


# --- scope ---------------------------------------------------------------------------------------


def test_scope(client, client_for, tree, bo, quarter_state, people):
    plan_url = _plan_url(tree, nam=2026, quy=1)
    assign_url = reverse("meetings:visit_assign", args=[tree.tccs.pk])
    confirm_url = reverse("meetings:visit_confirm", args=[quarter_state.pk])
    observe_url = reverse("meetings:visit_observe", args=[quarter_state.pk])
    # The Khối's committee viewer sees the plan but does not assign.
    assert client_for(people.viewer).get(plan_url).status_code == 200
    assert client_for(people.viewer).get(assign_url).status_code == 403
    # The officer of another đảng bộ does not see this one at all.
    other_tccs = make_organisation(parent=tree.khoi, kind=tree.tccs.kind, name="Đảng bộ Sở Xây dựng")
    stranger = UserFactory(username="canbo_xaydung")
    grant(stranger, other_tccs, Role.TCCS_OFFICER)
    assert client_for(stranger).get(plan_url).status_code == 404
    assert client_for(stranger).get(assign_url).status_code == 404
    # The đảng bộ's own officer sees the assignment on his plan but does not confirm for the visitor.
    assert client_for(people.officer).post(confirm_url, {"meeting": ""}).status_code == 403
    assert client_for(people.officer).get(observe_url).status_code == 403
    # Another member: 404; the cell's secretary has no plan.
    assert client_for(people.member).post(confirm_url, {"meeting": ""}).status_code == 404
    assert client_for(people.secretary).get(plan_url).status_code == 404
    # A cell is no upper unit: no plan of its own.
    assert client_for(people.admin).get(reverse("meetings:visit_plan", args=[tree.cell.pk])).status_code == 404
    # The form offers only the đảng bộ's cells: another's is refused next to the field.
    response = client_for(people.officer).post(
        assign_url + "?nam=2026&quy=1", {"cell": tree.other.pk, "visitor": bo.visitor.pk}
    )
    assert response.status_code == 200 and "cell" in response.context["form"].errors
    assert VisitAssignment.objects.count() == 1


# --- quarter boundaries --------------------------------------------------------------------------


def test_31_march_23_30_local_is_still_the_first_quarter(client_for, clock, tree, bo, people):
    clock.move_to(datetime.datetime(2026, 3, 31, 23, 30, tzinfo=HCM), tick=False)  # 16:30 UTC
    client = client_for(people.officer)
    response = client.get(_plan_url(tree))
    assert response.context["period"].quarter == 1 and response.context["days_left"] == 1
    assert response.context["can_plan"]
    url = reverse("meetings:visit_assign", args=[tree.tccs.pk]) + "?nam=2026&quy=1"
    assert client.post(url, {"cell": tree.cell.pk, "visitor": bo.visitor.pk}).status_code == 302
    assert VisitAssignment.objects.get().quarter == Q1

    clock.move_to(datetime.datetime(2026, 4, 1, 0, 30, tzinfo=HCM), tick=False)  # 31/03 17:30 UTC
    response = client.get(_plan_url(tree))
    assert response.context["period"].quarter == 2
    assert client.get(_plan_url(tree, nam=2026, quy=1)).context["can_plan"] is False
    refused = client.post(url, {"cell": bo.treasury.pk, "visitor": bo.visitor.pk})
    assert refused.status_code == 200
    assert "Quý 1/2026 đã kết thúc" in refused.content.decode()
    assert VisitAssignment.objects.count() == 1


def test_an_assignment_made_by_mistake_is_withdrawn_and_the_cell_is_unassigned_again(
    client_for, tree, bo, quarter_state, people
):
    client = client_for(people.officer)
    page = client.get(_plan_url(tree, nam=2026, quy=1)).content.decode()
    unassign = reverse("meetings:visit_unassign", args=[tree.tccs.pk, quarter_state.pk])
    assert f'action="{unassign}"' in page and "Hủy phân công đ/c Phạm Văn Kế Toán" in page
    response = client.post(unassign)
    assert response.status_code == 302 and response.url == _plan_url(tree, nam=2026, quy=1)
    assert not VisitAssignment.objects.exists()
    entry = AuditEntry.objects.get(action="meetings.visit.unassign")
    assert entry.object_id == str(quarter_state.pk) and entry.before["visitor_id"] == bo.visitor.pk
    states = {row.cell: row.state for row in visit_plan(upper=tree.tccs, quarter=Q1)["rows"]}
    assert states[bo.treasury] == PlanRow.UNASSIGNED
    assert visit_plan(upper=tree.tccs, quarter=Q1)["counts"] == {"unassigned": 2, "assigned": 0, "visited": 1}


def test_a_confirmed_assignment_is_not_withdrawn(client_for, tree, bo, quarter_state, people):
    meeting = services.meeting_publish(meeting=plan(bo.treasury, days=10))  # 20/02/2026
    services.visit_confirm(assignment=quarter_state, meeting=meeting, by=bo.visitor.user)
    client = client_for(people.officer)
    page = client.get(_plan_url(tree, nam=2026, quy=1)).content.decode()
    assert "Hủy phân công" not in page
    response = client.post(reverse("meetings:visit_unassign", args=[tree.tccs.pk, quarter_state.pk]), follow=True)
    assert "đã xác nhận dự buổi sinh hoạt ngày 20/02/2026: không hủy phân công được" in response.content.decode()
    assert VisitAssignment.objects.filter(pk=quarter_state.pk, meeting=meeting).exists()
    assert list(meeting.upper_guests.all()) == [bo.visitor]
    assert not AuditEntry.objects.filter(action="meetings.visit.unassign").exists()
    # Another đảng bộ's assignment is not found through this one's plan.
    other = client_for(people.officer).post(reverse("meetings:visit_unassign", args=[tree.tccs.pk, 999999]))
    assert other.status_code == 404
