"""The meeting-quality scoring engine: pure functions over a scheme snapshot and the facts of a meeting.

No model, no query: ``scoring.selectors.meeting_facts`` reads the records into facts
(``{measure: {"value", "evidence"}}``, one registered function per measure: scoring/measures.py,
scoring/facts.py), the scheme's snapshot (scoring/schemes.py) says what each criterion
measures and how many points each option gives, and here the points are proposed from the facts
(``propose``) and the sheet's total and level computed from the points (``classify``) — HD 42-HD/BTCTW and
Quy định 31-QĐ/TU through the schemes they ship as (scoring/data/).
"""

from decimal import ROUND_HALF_UP, Decimal

from django.utils.translation import gettext as _

from . import measures
from .schemes import CONDITION_KEYS, as_decimal


def _percent(part: int, whole: int) -> float | None:
    if not whole:
        return None
    return float((Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


def _fmt_percent(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value:.1f}".rstrip("0").rstrip(".").replace(".", ",") + "%"


def _fact(value, evidence: str) -> dict:
    return {"value": value, "evidence": evidence}


def _matches(option: dict, value) -> bool:
    value = as_decimal(value)
    checks = {"gte": value.__ge__, "gt": value.__gt__, "lte": value.__le__, "lt": value.__lt__}
    return all(checks[key](as_decimal(option[key])) for key in CONDITION_KEYS if key in option)


def propose(criterion: dict, facts: dict) -> tuple[Decimal | None, str]:
    """The points the records give a criterion (first option whose conditions hold), with the evidence used.

    A measure the criterion names that no module registered raises ``measures.UnknownMeasure``; a
    registered one missing from ``facts`` (facts read before it existed) gives no proposal.
    """
    measure = criterion.get("measure")
    if not measure:
        return None, ""
    evidence: list[str] = []
    for option in criterion.get("options") or []:
        name = option.get("measure") or measure
        if name not in facts and name not in measures.MEASURES:
            raise measures.UnknownMeasure(name, where=_criterion_place(criterion))
        has_condition = any(key in option for key in CONDITION_KEYS)
        fact = facts.get(name) or {"value": None, "evidence": _('Không có số liệu "%(name)s".') % {"name": name}}
        if has_condition and fact["evidence"] not in evidence:
            evidence.append(fact["evidence"])
        if not has_condition:
            return as_decimal(option["points"]), " ".join(evidence)
        if fact["value"] is None:
            return None, " ".join(evidence)
        if _matches(option, fact["value"]):
            return as_decimal(option["points"]), " ".join(evidence)
    return None, " ".join(evidence)


def _criterion_place(criterion: dict) -> str:
    return f"criterion {criterion.get('code', '?')} {criterion.get('name', '')}".strip()


def iter_criteria(snapshot: dict):
    for group in snapshot["groups"]:
        for criterion in group["criteria"]:
            yield group, criterion


def classify(snapshot: dict, points: dict, applicable: dict) -> dict:
    """Total and level of a score sheet.

    ``points`` maps (group code, criterion code) to points; ``applicable`` to whether it is scored.
    Returns {"total", "level", "level_name", "keys_full", "notes"}.
    """
    maximum = as_decimal(snapshot["max_points"])
    total = Decimal(0)
    applicable_max = Decimal(0)
    keys_full = True
    missing_keys = []
    for group, criterion in iter_criteria(snapshot):
        key = (group["code"], criterion["code"])
        cmax = as_decimal(criterion["max_points"])
        if not applicable.get(key, True):
            if snapshot.get("inapplicable_policy", "full") == "full":
                total += cmax
            continue
        value = points.get(key)
        total += value or 0
        if not criterion.get("is_bonus"):
            applicable_max += cmax
        if criterion.get("is_key") and (value is None or value < cmax):
            keys_full = False
            missing_keys.append(criterion["code"])
    if snapshot.get("inapplicable_policy") == "rescale" and applicable_max:
        base_max = sum(as_decimal(c["max_points"]) for g, c in iter_criteria(snapshot) if not c.get("is_bonus"))
        total = (total * base_max / applicable_max).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    total = min(total, maximum)
    notes = []
    chosen = snapshot["levels"][-1]
    for level in snapshot["levels"]:
        if total < as_decimal(level.get("min", 0)):
            continue
        if level.get("requires_key_criteria") and not keys_full:
            notes.append(
                _("Đủ điểm mức %(level)s nhưng tiêu chí then chốt %(codes)s chưa đạt điểm tối đa.")
                % {"level": level["name"], "codes": ", ".join(missing_keys)}
            )
            continue
        chosen = level
        break
    return {
        "total": total,
        "level": chosen["code"],
        "level_name": chosen["name"],
        "keys_full": keys_full,
        "notes": notes,
    }


def level_name(snapshot: dict, code: str) -> str:
    for level in snapshot.get("levels", []):
        if level["code"] == code:
            return level["name"]
    return code
