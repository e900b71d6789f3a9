"""Hand-worked meeting scores under both schemes, the key-criterion rule, confirmation and no rescoring.

The records (the same under both schemes):
  ten members, one exempt -> nine expected; one absent with a reason (also last month) -> 8/9 = 88.9 %,
  no unexcused absence; 80 minutes (10 short of 90); notice sent two days ahead; no documents; no chi ủy
  meeting although the cell has one (10 official members); 4 of the 8 present spoke (50 %); conclusion
  recorded and voted; 2 tasks assigned; last month's 4 tasks, 3 done (75 %); minutes not adopted and
  more than two days have passed.
"""

import datetime
import json

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command

from cells.models import AuditEntry
from meetings.models import Attendance
from scoring import services
from scoring.models import MeetingScore, ScoringScheme

from .conftest import build_meeting, finish_tasks, local

pytestmark = pytest.mark.django_db

EXCUSED = (Attendance.Presence.ABSENT_EXCUSED, "Đi công tác")


def _records(members, start, previous_start):
    previous = build_meeting(
        members[0].organisation,
        start=previous_start,
        absent={members[8]: EXCUSED},
        tasks=[(f"Việc {n}", [members[n]]) for n in range(4)],
    )
    finish_tasks(previous, 3, on=previous_start + datetime.timedelta(days=10))
    return build_meeting(
        members[0].organisation,
        start=start,
        minutes=80,
        absent={members[8]: EXCUSED},
        speakers=members[:4],
        tasks=[("Việc A", [members[0]]), ("Việc B", [members[1]])],
    )


def _proposed(score):
    return {line.criterion_code: line.proposed_points for line in score.lines.all()}


def _fill_manual_with_full_marks(score):
    points = {line.pk: line.max_points for line in score.lines.filter(applicable=True, proposed_points__isnull=True)}
    return services.meeting_score_self_save(score=score, points=points)


def test_hd42_hand_worked_score_and_level(cell_of_ten, people):
    meeting = _records(cell_of_ten, local(2026, 3, 17), local(2026, 2, 10))
    score = services.meeting_score_prefill(meeting=meeting, by=people.secretary)
    assert score.scheme.code == "hd42-btctw-2025"
    proposed = _proposed(score)
    expected = {
        "1.1": 4,
        "2.1": 3,
        "2.2": 1,
        "3.3": 0,
        "3.4": 1,
        "3.5": 0,
        "4.5": 4,
        "4.6": 1,
        "4.8": 0,
        "4.12": 1,
        "6.1": 24,
        "7.1": 2,
        "7.2": 2,
        "7.3": 0,
    }
    assert {code: proposed[code] for code in expected} == expected
    manual = {code for code, value in proposed.items() if value is None}
    assert manual == {
        "3.1",
        "3.2",
        "4.1",
        "4.2",
        "4.3",
        "4.4",
        "4.7",
        "4.9",
        "4.10",
        "4.11",
        "5.1",
        "5.2",
        "5.3",
        "5.4",
    }
    line_43 = score.lines.get(criterion_code="4.3")
    assert not line_43.applicable  # no thematic meeting this month: full marks under this scheme
    assert "8/9" in score.lines.get(criterion_code="2.1").evidence
    _fill_manual_with_full_marks(score)
    score = services.meeting_score_self_adopt(score=score, by=people.secretary)
    # 43 proposed + 5 (4.3 not applicable) + 37 manual at full marks = 85
    assert score.self_total == 85 and score.self_level == "kha" and score.self_level_name == "Khá"


def test_qd31_hand_worked_score_and_level(cell_of_ten, people):
    meeting = _records(cell_of_ten, local(2025, 9, 16), local(2025, 8, 12))
    score = services.meeting_score_prefill(meeting=meeting, by=people.secretary)
    assert score.scheme.code == "qd31-tu-2019" and score.is_provisional
    expected = {"2": 0, "3": 3, "4": 0, "5": 15, "6": 5, "8": 3, "9": 8, "12": 5, "13": 5, "14": 5, "15": 8}
    proposed = _proposed(score)
    assert {code: proposed[code] for code in expected} == expected
    assert {code for code, value in proposed.items() if value is None} == {"1", "7", "10", "11"}
    _fill_manual_with_full_marks(score)
    score = services.meeting_score_self_adopt(score=score)
    # 57 proposed + 30 manual = 87
    assert score.self_total == 87 and score.self_level == "kha"


def test_key_criterion_short_of_full_marks_keeps_a_90_point_meeting_below_tot(cell_of_ten, people):
    meeting = _records(cell_of_ten, local(2025, 9, 16), local(2025, 8, 12))
    score = services.meeting_score_prefill(meeting=meeting)
    lines = {line.criterion_code: line for line in score.lines.all()}
    # Chi ủy meeting and documents given by the secretary: 87 + 4 + 3 = 94, but criterion 8 (length) is 3 of 5.
    points = {line.pk: line.max_points for line in lines.values() if line.proposed_points is None}
    points.update({lines["2"].pk: 4, lines["4"].pk: 3})
    services.meeting_score_self_save(score=score, points=points)
    score = services.meeting_score_self_adopt(score=score)
    assert score.self_total == 94 and score.self_level == "kha"
    # The upper level finds the meeting ran the full 90 minutes: 96 and every key criterion full -> Tốt.
    score = services.meeting_score_confirm(
        score=score, points={lines["8"].pk: 5}, reason="Biên bản ghi sai giờ kết thúc", by=people.officer
    )
    assert score.official_total == 96 and score.official_level == "tot"


def test_upper_level_override_needs_a_reason_and_leaves_an_audit_row(cell_of_ten, people):
    meeting = _records(cell_of_ten, local(2026, 3, 17), local(2026, 2, 10))
    score = services.meeting_score_prefill(meeting=meeting)
    _fill_manual_with_full_marks(score)
    score = services.meeting_score_self_adopt(score=score)
    line = score.lines.get(criterion_code="4.2")
    with pytest.raises(ValidationError) as error:
        services.meeting_score_confirm(score=score, points={line.pk: 6}, reason="", by=people.officer)
    assert "reason" in error.value.error_dict
    score = services.meeting_score_confirm(
        score=score, points={line.pk: 6}, reason="Nội dung chưa sát", by=people.officer
    )
    assert score.self_total == 85 and score.official_total == 81 and score.official_level == "kha"
    row = AuditEntry.objects.get(action="scoring.meetingscoreline.override")
    assert (
        row.actor == people.officer and row.after["cell_points"] == "10.00" and row.after["official_points"] == "6.00"
    )
    assert row.after["override_reason"] == "Nội dung chưa sát"
    assert AuditEntry.objects.filter(action="scoring.meetingscore.confirm").count() == 1


def test_choice_criteria_accept_only_their_levels(cell_of_ten):
    meeting = _records(cell_of_ten, local(2026, 3, 17), local(2026, 2, 10))
    score = services.meeting_score_prefill(meeting=meeting)
    line = score.lines.get(criterion_code="6.1")
    with pytest.raises(ValidationError, match="chỉ nhận các mức"):
        services.meeting_score_self_save(score=score, points={line.pk: 25})
    with pytest.raises(ValidationError, match="từ 0 đến 30"):
        services.meeting_score_self_save(score=score, points={line.pk: 31})


def test_adoption_refused_while_criteria_are_missing(cell_of_ten):
    meeting = _records(cell_of_ten, local(2026, 3, 17), local(2026, 2, 10))
    score = services.meeting_score_prefill(meeting=meeting)
    with pytest.raises(ValidationError, match="chưa chấm"):
        services.meeting_score_self_adopt(score=score)


def test_editing_a_scheme_never_rescores_a_scored_meeting(cell_of_ten, tmp_path):
    meeting = _records(cell_of_ten, local(2026, 3, 17), local(2026, 2, 10))
    score = services.meeting_score_prefill(meeting=meeting)
    _fill_manual_with_full_marks(score)
    score = services.meeting_score_self_adopt(score=score)
    frozen = json.dumps(score.scheme_snapshot, sort_keys=True)
    path = tmp_path / "hd42.json"
    call_command("scoring_schemes", "export", str(path), "--code", "hd42-btctw-2025")
    data = json.loads(path.read_text(encoding="utf-8"))
    options = data["groups"][5]["criteria"][0]["options"]
    options[2]["points"] = 10  # 70–80 % of last month's tasks would now give 10, not 24
    data["levels"][1]["min"] = 86
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    call_command("scoring_schemes", "import", str(path))
    assert ScoringScheme.objects.get(code="hd42-btctw-2025").version == 2
    score = MeetingScore.objects.get(pk=score.pk)
    assert score.scheme_version == 1 and json.dumps(score.scheme_snapshot, sort_keys=True) == frozen
    assert score.self_total == 85 and score.self_level == "kha"
    assert score.lines.get(criterion_code="6.1").self_points == 24
    with pytest.raises(ValidationError):
        services.meeting_score_prefill(meeting=meeting)
    # Even the upper level's confirmation classifies with the frozen copy: 85 stays Khá (not Trung bình).
    score = services.meeting_score_confirm(score=score)
    assert score.official_level == "kha"


def test_a_draft_score_refreshes_with_its_frozen_scheme(cell_of_ten, tmp_path):
    meeting = _records(cell_of_ten, local(2026, 3, 17), local(2026, 2, 10))
    services.meeting_score_prefill(meeting=meeting)
    data = services.scheme_export(scheme=ScoringScheme.objects.get(code="hd42-btctw-2025"))
    data["groups"][5]["criteria"][0]["options"][2]["points"] = 10
    services.scheme_import(data=data)
    score = services.meeting_score_prefill(meeting=meeting)
    assert score.scheme_version == 1 and score.lines.get(criterion_code="6.1").proposed_points == 24


def test_prefill_bulk_for_the_demo_adopts_scores(cell_of_ten):
    meeting = _records(cell_of_ten, local(2026, 3, 17), local(2026, 2, 10))
    assert services.meeting_score_prefill_bulk(meetings=[meeting], adopt=True) == 1
    assert MeetingScore.objects.get(meeting=meeting).self_level == "kha"
    assert services.meeting_score_prefill_bulk(meetings=[meeting], adopt=True) == 0


@pytest.mark.parametrize(("day", "code"), [(27, "qd31-tu-2019"), (28, "hd42-btctw-2025")])
def test_a_meeting_is_scored_with_the_scheme_in_force_on_its_date(cell_of_ten, day, code):
    meeting = build_meeting(cell_of_ten[0].organisation, start=local(2025, 10, day))
    score = services.meeting_score_prefill(meeting=meeting)
    assert score.scheme.code == code and score.scheme_snapshot["code"] == code


def test_prefill_task_is_safe_to_run_twice_and_on_missing_meetings(cell_of_ten):
    from scoring.tasks import meeting_score_prefill

    meeting = _records(cell_of_ten, local(2026, 3, 17), local(2026, 2, 10))
    assert meeting_score_prefill(meeting.pk) is True
    assert meeting_score_prefill(meeting.pk) is True  # still a draft: proposals refreshed, nothing duplicated
    assert MeetingScore.objects.filter(meeting=meeting).count() == 1
    assert meeting_score_prefill(999999) is False


def test_minutes_record_the_self_score_and_level(cell_of_ten, people):
    from django.template.loader import render_to_string

    from meetings.selectors import minutes_context

    meeting = _records(cell_of_ten, local(2026, 3, 17), local(2026, 2, 10))
    score = services.meeting_score_prefill(meeting=meeting, by=people.secretary)
    _fill_manual_with_full_marks(score)
    services.meeting_score_self_adopt(score=score, by=people.secretary)
    meeting.refresh_from_db()
    html = render_to_string("documents/_minutes_body.html", minutes_context(meeting))
    assert "Chi bộ tự đánh giá chất lượng buổi sinh hoạt: 85 điểm, xếp loại Khá" in html


def test_adopting_the_minutes_prefills_the_score_on_commit(cell_of_ten, people, django_capture_on_commit_callbacks):
    """meetings sends ``minutes_adopted`` on commit; scoring listens and queues the pre-fill (issue #13),
    without meetings importing scoring."""
    from meetings import services as meeting_services

    meeting = build_meeting(
        cell_of_ten[0].organisation,
        start=local(2026, 11, 5),
        speakers=cell_of_ten[:4],
        tasks=[("Việc A", [cell_of_ten[0]])],
    )
    assert not MeetingScore.objects.filter(meeting=meeting).exists()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        meeting_services.meeting_adopt_minutes(meeting=meeting, by=people.secretary)
    assert not MeetingScore.objects.filter(meeting=meeting).exists()  # nothing before the commit
    for callback in callbacks:
        callback()
    score = MeetingScore.objects.get(meeting=meeting)
    assert score.state == MeetingScore.State.DRAFT
    # Pre-filled from the records: the adopted minutes and the attendance of 9 of 9 members due.
    assert score.facts["minutes_complete"]["value"] == 1
    assert score.facts["attendance_percent"]["value"] == 100
    assert score.lines.filter(proposed_points__isnull=False).exists()


def test_meetings_does_not_import_scoring():
    import ast
    import pathlib

    for path in pathlib.Path("meetings").rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = (
                [alias.name for alias in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else []
            )
            assert not any(name.split(".")[0] in ("scoring", "reports") for name in names), path


def test_a_confirmed_score_cannot_be_confirmed_again(cell_of_ten, people):
    """Re-confirming overwrote the official points, the reason and who confirmed, without limit."""
    meeting = _records(cell_of_ten, local(2026, 3, 17), local(2026, 2, 10))
    score = services.meeting_score_prefill(meeting=meeting)
    _fill_manual_with_full_marks(score)
    score = services.meeting_score_self_adopt(score=score)
    line = score.lines.get(criterion_code="4.2")
    score = services.meeting_score_confirm(
        score=score, points={line.pk: 6}, reason="Nội dung chưa sát", by=people.officer
    )
    official = (score.official_total, score.official_level, score.confirm_reason, score.confirmed_at)
    audit_rows = AuditEntry.objects.count()
    for points, reason in (({line.pk: 2}, "Lý do khác"), ({}, "")):
        with pytest.raises(ValidationError, match="đã xác nhận"):
            services.meeting_score_confirm(score=score, points=points, reason=reason, by=people.admin)
    score.refresh_from_db()
    line.refresh_from_db()
    assert (score.official_total, score.official_level, score.confirm_reason, score.confirmed_at) == official
    assert line.official_points == 6 and line.override_reason == "Nội dung chưa sát"
    assert AuditEntry.objects.count() == audit_rows
