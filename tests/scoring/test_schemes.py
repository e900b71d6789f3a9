"""The shipped schemes, the JSON round trip, and the choice of scheme by date and scope."""

import datetime
import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from scoring import schemes, selectors, services
from scoring.models import ScoringScheme

pytestmark = pytest.mark.django_db


def test_two_schemes_are_shipped_with_100_points_each():
    hd42 = ScoringScheme.objects.get(code="hd42-btctw-2025")
    qd31 = ScoringScheme.objects.get(code="qd31-tu-2019")
    assert [int(g.max_points) for g in hd42.groups.order_by("order")] == [5, 5, 10, 40, 5, 30, 5]
    assert [int(g.max_points) for g in qd31.groups.order_by("order")] == [15, 20, 45, 20]
    assert qd31.is_provisional and not hd42.is_provisional
    for scheme in (hd42, qd31):
        assert schemes.validate_scheme_data(schemes.scheme_to_dict(scheme)) == []
        assert [(level["name"], level["min"]) for level in scheme.levels] == [
            ("Tốt", 90),
            ("Khá", 70),
            ("Trung bình", 50),
            ("Kém", 0),
        ]


def test_meeting_on_27_october_2025_uses_qd31_and_on_28_october_hd42(tree):
    assert selectors.scheme_for(organisation=tree.cell, day=datetime.date(2025, 10, 27)).code == "qd31-tu-2019"
    assert selectors.scheme_for(organisation=tree.cell, day=datetime.date(2025, 10, 28)).code == "hd42-btctw-2025"
    assert selectors.scheme_for(organisation=tree.cell, day=datetime.date(2019, 7, 16)) is None


def test_a_scheme_scoped_to_a_subtree_overrides_the_central_one_there_only(tree):
    data = schemes.scheme_to_dict(ScoringScheme.objects.get(code="hd42-btctw-2025"))
    data.update(
        code="dia-phuong-2026", name="Bộ tiêu chí của đảng bộ", effective_from="2026-01-01", scope=[tree.tccs.name]
    )
    services.scheme_import(data=data)
    day = datetime.date(2026, 3, 1)
    assert selectors.scheme_for(organisation=tree.cell, day=day).code == "dia-phuong-2026"
    assert selectors.scheme_for(organisation=tree.other, day=day).code == "hd42-btctw-2025"


def test_export_then_import_round_trip_changes_nothing(tmp_path):
    path = tmp_path / "schemes.json"
    call_command("scoring_schemes", "export", str(path))
    data = json.loads(path.read_text(encoding="utf-8"))
    assert {item["code"] for item in data} == {"hd42-btctw-2025", "qd31-tu-2019"}
    call_command("scoring_schemes", "import", str(path))
    assert set(ScoringScheme.objects.values_list("version", flat=True)) == {1}


def test_importing_the_official_qd31_criteria_is_a_data_change(tmp_path):
    path = tmp_path / "qd31.json"
    call_command("scoring_schemes", "export", str(path), "--code", "qd31-tu-2019")
    data = json.loads(path.read_text(encoding="utf-8"))
    data["is_provisional"] = False
    data["groups"][0]["criteria"][0]["name"] = "Tiêu chí chính thức"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    call_command("scoring_schemes", "import", str(path))
    scheme = ScoringScheme.objects.get(code="qd31-tu-2019")
    assert scheme.version == 2 and not scheme.is_provisional
    assert scheme.groups.get(code="I").criteria.get(code="1").name == "Tiêu chí chính thức"


def test_a_bad_file_is_refused_and_writes_nothing(tmp_path):
    path = tmp_path / "bad.json"
    data = schemes.scheme_to_dict(ScoringScheme.objects.get(code="hd42-btctw-2025"))
    data["groups"][0]["max_points"] = 6
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(CommandError, match="khác điểm tối đa"):
        call_command("scoring_schemes", "import", str(path))
    assert ScoringScheme.objects.get(code="hd42-btctw-2025").version == 1


def test_every_measure_a_scheme_may_name_is_read_from_the_records(cell_of_ten):
    from meetings.models import Meeting

    from .conftest import build_meeting, local

    meeting = build_meeting(cell_of_ten[0].organisation, start=local(2026, 3, 17))
    assert set(selectors.meeting_facts(Meeting.objects.get(pk=meeting.pk))) == set(schemes.MEASURES)


def test_an_unknown_measure_is_refused():
    data = schemes.scheme_to_dict(ScoringScheme.objects.get(code="hd42-btctw-2025"))
    data["groups"][0]["criteria"][0]["measure"] = "khong_co"
    assert any("khong_co" in error for error in schemes.validate_scheme_data(data))
