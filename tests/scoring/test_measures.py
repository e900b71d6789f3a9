"""The measures' registry (scoring/measures.py) and the shipped measures (scoring/facts.py): every measure
a scheme names is registered with its label, its source and the loaders it needs; a criterion naming a
code nobody registered fails loudly; a measure registered here is read from a real meeting, shares the
loader it needs with the shipped measures, and is proposed on the score sheet."""

import copy
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from meetings.models import Attendance, Meeting
from scoring import engine, measures, schemes, selectors, services
from scoring.models import ScoringScheme

from .conftest import build_meeting, local

pytestmark = pytest.mark.django_db
AWAY = (Attendance.Presence.ABSENT_EXCUSED, "Đi công tác")


def _fresh(meeting) -> Meeting:
    return Meeting.objects.get(pk=meeting.pk)


def test_every_shipped_measure_has_a_label_a_source_and_registered_loaders():
    for code, item in measures.MEASURES.items():
        assert item.code == code and str(item.label) and item.source, code
        assert "HD 42-HD/BTCTW" in item.source or "QĐ 31-QĐ/TU" in item.source, code
        assert set(item.needs) <= set(measures.LOADERS), code
    # Every measure the two shipped schemes name is registered; the labels are the schemes' list.
    named = set()
    for scheme in ScoringScheme.objects.filter(code__in=["hd42-btctw-2025", "qd31-tu-2019"]):
        for _group, criterion in engine.iter_criteria(schemes.scheme_to_dict(scheme)):
            named |= {criterion["measure"]} | {option.get("measure") for option in criterion["options"]}
    named -= {"", None}
    assert len(named) == 17 and named <= set(measures.MEASURES)
    assert dict(schemes.MEASURES) == measures.labels()
    # The attendance counts are one loader for three measures.
    assert [code for code, item in measures.MEASURES.items() if "attendance" in item.needs] == [
        "attendance_percent",
        "unexcused_absences",
        "speakers_percent",
    ]


def test_a_criterion_naming_an_unregistered_measure_fails_loudly(tree, cell_of_ten):
    meeting = build_meeting(tree.cell, start=local(2026, 3, 17))
    criterion = {"code": "9.9", "name": "Tiêu chí thử", "measure": "khong_co", "options": [{"gte": 1, "points": 1}]}
    with pytest.raises(measures.UnknownMeasure, match=r'"khong_co" \(criterion 9.9 Tiêu chí thử\).*scoring/facts.py'):
        engine.propose(criterion, selectors.meeting_facts(meeting))
    with pytest.raises(measures.UnknownMeasure, match="scoring/facts.py"):
        measures.get("khong_co")
    # Through the score sheet: a frozen scheme naming it refuses to propose, and nothing is written.
    score = services.meeting_score_prefill(meeting=meeting)
    snapshot = copy.deepcopy(score.scheme_snapshot)
    snapshot["groups"][1]["criteria"][0]["measure"] = "khong_co"  # HD 42 line 2.1
    type(score).objects.filter(pk=score.pk).update(scheme_snapshot=snapshot)
    with pytest.raises(measures.UnknownMeasure, match='"khong_co" \\(criterion 2.1'):
        services.meeting_score_prefill(meeting=meeting)
    assert score.lines.get(criterion_code="2.1").proposed_points == 4  # all nine present: 4 points, unchanged


@pytest.fixture
def members_present():
    """A measure registered by the test: the members present, from the shared attendance counts."""

    def compute(meeting, data):
        present = data["attendance"]["present"]
        return present, f"{present} đảng viên có mặt."

    item = measures.register(
        measures.Measure("members_present", "Số đảng viên có mặt", "QĐ 31-QĐ/TU (thử)", ("attendance",), compute)
    )
    try:
        yield item
    finally:
        measures.unregister("members_present")
    assert "members_present" not in measures.MEASURES and "members_present" not in schemes.MEASURES


def test_a_measure_registered_in_a_test_is_proposed_on_a_real_meeting(tree, cell_of_ten, members_present):
    # Ten members, one exempt; two away on business: 7 present.
    meeting = build_meeting(tree.cell, start=local(2026, 3, 17), absent={m: AWAY for m in cell_of_ten[7:9]})
    facts = selectors.meeting_facts(_fresh(meeting))
    assert facts["members_present"] == {"value": 7, "evidence": "7 đảng viên có mặt."}
    criterion = {"code": "X", "measure": "members_present", "options": [{"gte": 7, "points": 3}, {"points": 0}]}
    assert engine.propose(criterion, facts) == (Decimal(3), "7 đảng viên có mặt.")
    assert engine.propose({**criterion, "options": [{"gte": 8, "points": 3}, {"points": 0}]}, facts) == (
        Decimal(0),
        "7 đảng viên có mặt.",
    )
    # A scheme may name it while it is registered (and is refused once it is not: the fixture's teardown).
    data = schemes.scheme_to_dict(ScoringScheme.objects.get(code="hd42-btctw-2025"))
    data["groups"][1]["criteria"][1].update(measure="members_present", options=[{"gte": 7, "points": 1}])
    assert schemes.validate_scheme_data(data) == []
    # On the score sheet: HD 42's bonus line 2.2 made to read it proposes its point from the records.
    score = services.meeting_score_prefill(meeting=meeting)
    snapshot = copy.deepcopy(score.scheme_snapshot)
    snapshot["groups"][1]["criteria"][1].update(measure="members_present", options=[{"gte": 7, "points": 1}])
    type(score).objects.filter(pk=score.pk).update(scheme_snapshot=snapshot)
    score = services.meeting_score_prefill(meeting=meeting)
    line = score.lines.get(criterion_code="2.2")
    assert (line.proposed_points, line.evidence) == (1, "7 đảng viên có mặt.")
    assert score.facts["members_present"]["value"] == 7


def test_a_measure_sharing_a_loader_costs_no_query(tree, cell_of_ten):
    meeting = build_meeting(tree.cell, start=local(2026, 3, 17))

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            selectors.meeting_facts(_fresh(meeting))
        return len(captured.captured_queries) - 1  # the meeting itself

    before = queries()

    def again(meeting, data):
        return data["attendance"]["present"] + len(data["documents"]), ""

    measures.register(measures.Measure("again", "Thử", "thử", ("attendance", "documents"), again))
    try:
        assert queries() == before and selectors.meeting_facts(_fresh(meeting))["again"]["value"] == 9
    finally:
        measures.unregister("again")


def test_each_loader_runs_once_for_every_measure_that_needs_it(tree, cell_of_ten):
    meeting = build_meeting(tree.cell, start=local(2026, 3, 17))
    calls = []
    measures.register_loader(measures.Loader("probe", lambda m: calls.append(m.pk) or 2))
    measures.register(measures.Measure("twice", "Hai", "thử", ("probe",), lambda m, d: (d["probe"] * 2, "")))
    measures.register(measures.Measure("thrice", "Ba", "thử", ("probe",), lambda m, d: (d["probe"] * 3, "")))
    try:
        facts = selectors.meeting_facts(meeting)
        assert (facts["twice"]["value"], facts["thrice"]["value"], calls) == (4, 6, [meeting.pk])
    finally:
        measures.unregister("twice")
        measures.unregister("thrice")
        measures.unregister_loader("probe")


def test_a_measure_reads_only_the_loaders_it_declares(tree, cell_of_ten):
    with pytest.raises(measures.UnknownLoader, match="nowhere"):
        measures.register(measures.Measure("lost", "Lạc", "thử", ("nowhere",), lambda m, d: (0, "")))
    assert "lost" not in measures.MEASURES
    meeting = build_meeting(tree.cell, start=local(2026, 3, 17))
    measures.register(measures.Measure("sneaky", "Lén", "thử", (), lambda m, d: (d["attendance"]["present"], "")))
    try:
        with pytest.raises(measures.UnknownLoader, match='"sneaky" reads loader "attendance" without declaring'):
            selectors.meeting_facts(meeting)
    finally:
        measures.unregister("sneaky")
