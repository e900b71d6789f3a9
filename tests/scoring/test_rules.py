"""Issue #19's rules in the scoring, on hand-worked records: tasks done on time (HD 42 line 6.1), the
chi ủy's preparatory meeting for a cell with a bí thư alone (line 3.3), the conclusion's vote measured
against the official members (line 7.1), HD 42's levels, and the HTXSNV quota's base (HD 21)."""

import datetime
from decimal import Decimal

import pytest

from cells import services as cell_services
from cells.models import Position
from meetings import services as meeting_services
from meetings.models import Attendance, Task
from scoring import engine, schemes, selectors, services
from scoring.models import ScoringScheme
from tests.factories import make_member

from .conftest import build_meeting, local
from .test_ratings import HT, TT, XS, _rate

pytestmark = pytest.mark.django_db
AWAY = (Attendance.Presence.ABSENT_EXCUSED, "Đi công tác")


# --- HD 42 line 6.1: the last resolution's tasks, done on time ----------------------------------


def _previous_with_dated_tasks(cell, members, *, on_time, late):
    """Last month's meeting (10/02/2026) with tasks due 28/02: ``on_time`` done on 25/02, ``late`` on 07/03."""
    previous = build_meeting(cell, start=local(2026, 2, 10))
    due = datetime.date(2026, 2, 28)
    for n in range(on_time + late):
        task = meeting_services.task_create(
            meeting=previous, description=f"Việc {n}", assignees=[members[n]], due_date=due
        )
        done_on = local(2026, 2, 25, 16) if n < on_time else local(2026, 3, 7, 16)  # a week late
        Task.objects.filter(pk=task.pk).update(status=Task.Status.DONE, result="Xong", completed_at=done_on)
    return previous


def test_four_on_time_and_one_a_week_late_is_80_percent(tree, cell_of_ten):
    _previous_with_dated_tasks(tree.cell, cell_of_ten, on_time=4, late=1)
    meeting = build_meeting(tree.cell, start=local(2026, 3, 17))
    fact = selectors.meeting_facts(meeting)["last_tasks_done_percent"]
    assert fact["value"] == 80.0  # not 100 %: done, but after its due date
    assert "hoàn thành đúng hạn 4/5" in fact["evidence"]
    score = services.meeting_score_prefill(meeting=meeting)
    assert score.lines.get(criterion_code="6.1").proposed_points == 27  # 80 % to < 90 %


def test_a_task_without_due_date_is_on_time_when_done_by_the_end_of_the_next_meeting(tree, cell_of_ten):
    previous = build_meeting(
        tree.cell, start=local(2026, 2, 10), tasks=[("Việc A", [cell_of_ten[0]]), ("Việc B", [cell_of_ten[1]])]
    )
    meeting = build_meeting(tree.cell, start=local(2026, 3, 17), minutes=120)  # ends 16:00
    first, second = previous.tasks.order_by("pk")
    Task.objects.filter(pk=first.pk).update(status=Task.Status.DONE, completed_at=local(2026, 3, 17, 15, 30))
    Task.objects.filter(pk=second.pk).update(status=Task.Status.DONE, completed_at=local(2026, 3, 18, 9))
    assert selectors.meeting_facts(meeting)["last_tasks_done_percent"]["value"] == 50.0


def test_member_evidence_counts_tasks_done_on_time_the_same_way(tree, cell_of_ten):
    _previous_with_dated_tasks(tree.cell, [cell_of_ten[2]] * 2, on_time=1, late=1)
    evidence = selectors.member_year_evidence(member=cell_of_ten[2], year=2026)
    assert (evidence["tasks_total"], evidence["tasks_on_time"], evidence["tasks_on_time_percent"]) == (2, 1, 50.0)


# --- HD 42 line 3.3: the chi ủy meets first; a bí thư alone has nobody to agree with -----------------


@pytest.fixture
def small_cell(tree, people):
    """Chi bộ Kế toán: 4 official members (no chi ủy), with a bí thư."""
    members = [people.members["sibling"]] + [
        make_member(organisation=tree.sibling, full_name=f"Kế Toán {n}") for n in range(2, 5)
    ]
    cell_services.position_assign(
        member=members[0], organisation=tree.sibling, kind=Position.Kind.SECRETARY, start=datetime.date(2025, 6, 1)
    )
    return members


def test_a_cell_with_a_bi_thu_alone_gets_line_3_3_in_full(tree, small_cell):
    meeting = build_meeting(tree.sibling, start=local(2026, 3, 17))
    fact = selectors.meeting_facts(meeting)["preparatory_meeting"]
    assert fact["value"] == 1 and "chỉ có bí thư" in fact["evidence"]
    score = services.meeting_score_prefill(meeting=meeting)
    assert score.lines.get(criterion_code="3.3").proposed_points == 2


def test_a_cell_with_a_pho_bi_thu_leaves_line_3_3_to_the_bi_thu(tree, small_cell):
    cell_services.position_assign(
        member=small_cell[1],
        organisation=tree.sibling,
        kind=Position.Kind.DEPUTY_SECRETARY,
        start=datetime.date(2025, 6, 1),
    )
    meeting = build_meeting(tree.sibling, start=local(2026, 3, 17))
    assert selectors.meeting_facts(meeting)["preparatory_meeting"]["value"] is None


def test_a_cell_with_a_chi_uy_and_no_preparatory_meeting_gets_nothing(tree, cell_of_ten):
    meeting = build_meeting(tree.cell, start=local(2026, 3, 17))  # ten official members: a chi ủy
    assert selectors.meeting_facts(meeting)["preparatory_meeting"]["value"] == 0


# --- HD 42 line 7.1: the conclusion adopted by vote, measured against the official members ------------


def test_conclusion_vote_is_measured_against_the_official_members(tree, cell_of_ten):
    # Ten members, one exempt (absent): 9 counted; 4 away on business: 5 present with a vote.
    away = {member: AWAY for member in cell_of_ten[5:9]}
    meeting = build_meeting(tree.cell, start=local(2026, 3, 17), absent=away, vote=False)
    meeting_services.vote_record(meeting=meeting, question="Thông qua kết luận", votes_for=4, votes_against=1)
    fact = selectors.meeting_facts(meeting)["conclusion_voted"]
    assert fact["value"] == 0 and "biểu quyết tính trên: 9" in fact["evidence"]  # 4/9 fails (4/5 would pass)
    meeting_services.vote_record(meeting=meeting, question="Thông qua kết luận (lần 2)", votes_for=5, votes_against=0)
    assert selectors.meeting_facts(meeting)["conclusion_voted"]["value"] == 1  # 5/9 > 1/2


# --- HD 42 levels: cut-offs only -------------------------------------------------------------------


def test_hd42_states_no_extra_condition_for_tot(db):
    """HD 42 classifies by points alone (Tốt ≥ 90, Khá 70–<90, TB 50–<70, Kém < 50; domain-research §2.2):
    no key criteria, no attendance condition. 99 points with attendance at 75–90 % is Tốt."""
    snapshot = schemes.scheme_to_dict(ScoringScheme.objects.get(code="hd42-btctw-2025"))
    assert [(level["code"], level["min"]) for level in snapshot["levels"]] == [
        ("tot", 90),
        ("kha", 70),
        ("trung_binh", 50),
        ("kem", 0),
    ]
    assert not any(level.get("requires_key_criteria") or level.get("conditions") for level in snapshot["levels"])
    assert not any(criterion.get("is_key") for _group, criterion in engine.iter_criteria(snapshot))
    points = {
        (group["code"], criterion["code"]): Decimal(criterion["max_points"])
        for group, criterion in engine.iter_criteria(snapshot)
    }
    points[("2", "2.1")] = Decimal(3)  # attendance 75 % to < 90 %: one point short
    result = engine.classify(snapshot, points, {})
    assert result["total"] == 99 and result["level"] == "tot"


# --- the HTXSNV quota: 20 % of those rated HTTNV, per TCCS (HD 21) -----------------------------------


def test_a_dang_bo_with_3_htxsnv_and_14_httnv_is_warned(tree, people):
    # Đảng bộ Sở Tài chính: Chi bộ Văn phòng (2 + 8) and Chi bộ Kế toán (1 + 6) = 17 rated members.
    for n in range(8):
        make_member(organisation=tree.cell, full_name=f"Văn Phòng {n}")
    for n in range(6):
        make_member(organisation=tree.sibling, full_name=f"Kế Toán {n}")
    rows = [
        row
        for cell in (tree.cell, tree.sibling)
        for row in services.annual_rating_open(cell=cell, year=2026)
        if row.member_id
    ]
    assert len(rows) == 17
    for row in rows[:14]:
        _rate(row, TT)
    for row in rows[14:16]:
        _rate(row, XS)  # 2 ≤ 2,8: no warning yet
    last = rows[16]
    services.annual_rating_self_assess(rating=last, level=XS)
    services.annual_rating_propose(rating=last, level=XS)
    warnings = services.annual_rating_warnings(rating=last, level=XS)
    # 3 > 20 % × 14 = 2,8 (the old base, 14 + 3 = 17, allowed 3 and gave no warning)
    assert warnings == ["Đảng bộ Sở Tài chính: 3 đảng viên HTXSNV, vượt 20% của 14 đảng viên HTTNV (tối đa 2)."]
    assert services.annual_rating_warnings(rating=last, level=HT) == []
    regime = selectors.regime_for(2026)
    assert regime.quota_base_includes_excellent is False
    services.annual_rating_decide(rating=last, level=XS, acknowledge_warnings=True)
    assert selectors.quota_check(tccs=tree.tccs, year=2026, regime=regime) == warnings  # the rating page
