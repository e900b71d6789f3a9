"""The scoring engine (scoring/engine.py) on literal facts and a literal scheme: no database."""

from decimal import Decimal

from scoring import engine

SNAPSHOT = {
    "max_points": 100,
    "inapplicable_policy": "full",
    "groups": [
        {
            "code": "A",
            "criteria": [
                {
                    "code": "A1",
                    "max_points": 60,
                    "is_key": True,
                    "measure": "attendance_percent",
                    "options": [{"gte": 90, "points": 60}, {"gte": 80, "points": 40}, {"points": 0}],
                },
                {"code": "A2", "max_points": 40, "measure": "thematic", "options": [{"gte": 1, "points": 40}]},
            ],
        },
    ],
    "levels": [
        {"code": "xs", "name": "Tốt", "min": 90, "requires_key_criteria": True},
        {"code": "k", "name": "Khá", "min": 70},
        {"code": "tb", "name": "Trung bình", "min": 0},
    ],
}


def fact(value, evidence="ghi chép"):
    return {"value": value, "evidence": evidence}


def test_the_first_option_whose_condition_holds_gives_the_points_with_its_evidence():
    a1 = SNAPSHOT["groups"][0]["criteria"][0]
    assert engine.propose(a1, {"attendance_percent": fact(92.3, "12/13 có mặt")}) == (Decimal(60), "12/13 có mặt")
    assert engine.propose(a1, {"attendance_percent": fact(85, "11/13")}) == (Decimal(40), "11/13")
    assert engine.propose(a1, {"attendance_percent": fact(50, "6/12")}) == (Decimal(0), "6/12")
    # No figure in the records: no proposal, and the evidence says so.
    assert engine.propose(a1, {"attendance_percent": fact(None, "chưa điểm danh")}) == (None, "chưa điểm danh")


def test_the_total_and_the_level_and_a_key_criterion_short_of_full_marks():
    # 40 + 40 = 80: "Khá".
    result = engine.classify(SNAPSHOT, {("A", "A1"): Decimal(40), ("A", "A2"): Decimal(40)}, {})
    assert (result["total"], result["level"], result["keys_full"]) == (Decimal(80), "k", False)
    # 60 + 40 = 100: "Tốt", the key criterion at its maximum.
    result = engine.classify(SNAPSHOT, {("A", "A1"): Decimal(60), ("A", "A2"): Decimal(40)}, {})
    assert (result["total"], result["level"], result["notes"]) == (Decimal(100), "xs", [])
    # A2 not applicable under the "full" policy counts its 40 points: 55 + 40 = 95, but the key
    # criterion short of 60 keeps it out of "Tốt".
    result = engine.classify(SNAPSHOT, {("A", "A1"): Decimal(55)}, {("A", "A2"): False})
    assert (result["total"], result["level"]) == (Decimal(95), "k") and "A1" in result["notes"][0]
    assert engine.level_name(SNAPSHOT, "k") == "Khá" and engine.level_name(SNAPSHOT, "zz") == "zz"
