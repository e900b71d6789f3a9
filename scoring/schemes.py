"""Scoring schemes as plain data: the JSON (or YAML) form, its checks, and loading it into the tables.

The functions take the model classes as arguments so that the data migration which ships the two
schemes runs the very same code as ``manage.py scoring_schemes import``.
"""

import datetime
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation

from django.utils.translation import gettext as _

from . import measures

FORMAT_VERSION = 1
CHOICE, NUMBER = "choice", "number"
CONDITION_KEYS = ("gte", "gt", "lte", "lt")


class _MeasureLabels(Mapping):
    """Code → label of the measures a criterion may ask for: a live view of the registry
    (scoring/measures.py; the shipped measures are in scoring/facts.py, registered when the apps are ready)."""

    def __getitem__(self, code):
        if code not in measures.MEASURES:
            raise KeyError(code)
        return measures.MEASURES[code].label

    def __iter__(self):
        return iter(measures.MEASURES)

    def __len__(self) -> int:
        return len(measures.MEASURES)

    def __contains__(self, code) -> bool:
        return code in measures.MEASURES


MEASURES: Mapping = _MeasureLabels()


def as_decimal(value) -> Decimal:
    return Decimal(str(value))


def plain_number(value):
    """A Decimal as JSON wants it: 5 rather than 5.00, 2.5 rather than "2.50"."""
    value = Decimal(value)
    return int(value) if value == value.to_integral_value() else float(value)


def scheme_to_dict(scheme) -> dict:
    """The scheme in its exchange form (also the frozen copy kept on every meeting score)."""
    groups = []
    for group in scheme.groups.all().order_by("order", "pk"):
        criteria = []
        for criterion in group.criteria.all().order_by("order", "pk"):
            criteria.append(
                {
                    "code": criterion.code,
                    "name": criterion.name,
                    "guidance": criterion.guidance,
                    "max_points": plain_number(criterion.max_points),
                    "kind": criterion.kind,
                    "measure": criterion.measure,
                    "options": criterion.options,
                    "is_key": criterion.is_key,
                    "only_when_thematic": criterion.only_when_thematic,
                    "is_bonus": criterion.is_bonus,
                }
            )
        groups.append(
            {"code": group.code, "name": group.name, "max_points": plain_number(group.max_points), "criteria": criteria}
        )
    return {
        "format": FORMAT_VERSION,
        "code": scheme.code,
        "name": scheme.name,
        "source_document": scheme.source_document,
        "version": scheme.version,
        "effective_from": scheme.effective_from.isoformat(),
        "effective_to": scheme.effective_to.isoformat() if scheme.effective_to else None,
        "scope": sorted(org.name for org in scheme.scope.all()),
        "max_points": plain_number(scheme.max_points),
        "inapplicable_policy": scheme.inapplicable_policy,
        "is_provisional": scheme.is_provisional,
        "provisional_note": scheme.provisional_note,
        "description": scheme.description,
        "levels": scheme.levels,
        "groups": groups,
    }


def _date(value, field, errors):
    if value in (None, ""):
        return None
    try:
        return datetime.date.fromisoformat(str(value))
    except ValueError:
        errors.append(
            _("%(field)s: ngày không hợp lệ (%(value)s), cần dạng YYYY-MM-DD.") % {"field": field, "value": value}
        )
        return None


def _number(value, field, errors):
    try:
        return as_decimal(value)
    except (InvalidOperation, ValueError, TypeError):
        errors.append(_("%(field)s: không phải là số (%(value)r).") % {"field": field, "value": value})
        return Decimal(0)


def validate_scheme_data(data: dict) -> list[str]:
    """Everything wrong with a scheme's data, in Vietnamese; an empty list means it can be loaded."""
    errors: list[str] = []
    if not isinstance(data, dict):
        return [_("Dữ liệu bộ tiêu chí phải là một đối tượng JSON.")]
    for key in ("code", "name", "source_document", "effective_from", "groups", "levels"):
        if not data.get(key):
            errors.append(_('Thiếu trường bắt buộc "%(key)s".') % {"key": key})
    if errors:
        return errors
    start = _date(data["effective_from"], "effective_from", errors)
    end = _date(data.get("effective_to"), "effective_to", errors)
    if start and end and end < start:
        errors.append(_("effective_to phải sau effective_from."))
    if data.get("inapplicable_policy", "full") not in ("full", "rescale"):
        errors.append(_('inapplicable_policy phải là "full" hoặc "rescale".'))
    max_points = _number(data.get("max_points", 100), "max_points", errors)
    group_sum = Decimal(0)
    group_codes = set()
    for group in data["groups"]:
        code = str(group.get("code", ""))
        label = _("Nhóm %(code)s") % {"code": code or "?"}
        if not code or code in group_codes:
            errors.append(_("%(label)s: mã nhóm trống hoặc trùng.") % {"label": label})
        group_codes.add(code)
        if not group.get("name"):
            errors.append(_("%(label)s: thiếu tên nhóm.") % {"label": label})
        group_max = _number(group.get("max_points"), f"{label} max_points", errors)
        group_sum += group_max
        criteria_sum = Decimal(0)
        criterion_codes = set()
        for criterion in group.get("criteria") or []:
            ccode = str(criterion.get("code", ""))
            clabel = _("Tiêu chí %(code)s") % {"code": ccode or "?"}
            if not ccode or ccode in criterion_codes:
                errors.append(
                    _("%(label)s: mã tiêu chí trống hoặc trùng trong nhóm %(group)s.")
                    % {"label": clabel, "group": code}
                )
            criterion_codes.add(ccode)
            if not criterion.get("name"):
                errors.append(_("%(label)s: thiếu tên tiêu chí.") % {"label": clabel})
            cmax = _number(criterion.get("max_points"), f"{clabel} max_points", errors)
            criteria_sum += cmax
            kind = criterion.get("kind", NUMBER)
            if kind not in (CHOICE, NUMBER):
                errors.append(_('%(label)s: cách chấm phải là "choice" hoặc "number".') % {"label": clabel})
            options = criterion.get("options") or []
            if kind == CHOICE and not options:
                errors.append(_('%(label)s: cách chấm "choice" cần ít nhất một mức điểm.') % {"label": clabel})
            for name in [criterion.get("measure")] + [option.get("measure") for option in options]:
                if name and name not in MEASURES:
                    errors.append(
                        _('%(label)s: không có số liệu "%(name)s" (xem danh sách trong scoring/facts.py).')
                        % {"label": clabel, "name": name}
                    )
            if criterion.get("measure") and not options:
                errors.append(_("%(label)s: có số liệu đề xuất thì cần các mức điểm.") % {"label": clabel})
            for option in options:
                points = _number(option.get("points"), f"{clabel} points", errors)
                if points < 0 or points > cmax:
                    errors.append(
                        _('%(label)s: mức "%(option)s" có %(points)s điểm, ngoài khoảng 0–%(max)s.')
                        % {"label": clabel, "option": option.get("label", ""), "points": points, "max": cmax}
                    )
                for key in CONDITION_KEYS:
                    if key in option:
                        _number(option[key], f"{clabel} {key}", errors)
        if not group.get("criteria"):
            errors.append(_("%(label)s: chưa có tiêu chí nào.") % {"label": label})
        elif criteria_sum != group_max:
            errors.append(
                _("%(label)s: tổng điểm các tiêu chí (%(sum)s) khác điểm tối đa của nhóm (%(max)s).")
                % {"label": label, "sum": criteria_sum, "max": group_max}
            )
    if group_sum != max_points:
        errors.append(
            _("Tổng điểm các nhóm (%(sum)s) khác điểm tối đa của bộ tiêu chí (%(max)s).")
            % {"sum": group_sum, "max": max_points}
        )
    level_codes = set()
    last_min = None
    for level in data["levels"]:
        if not level.get("code") or not level.get("name") or level.get("code") in level_codes:
            errors.append(_("Mỗi mức xếp loại cần mã (không trùng) và tên."))
        level_codes.add(level.get("code"))
        minimum = _number(level.get("min", 0), f"Mức {level.get('name')} min", errors)
        if last_min is not None and minimum >= last_min:
            errors.append(_("Các mức xếp loại phải xếp từ cao xuống thấp theo điểm sàn."))
        last_min = minimum
    if last_min is not None and last_min != 0:
        errors.append(_("Mức xếp loại thấp nhất phải có điểm sàn 0."))
    return errors


def scheme_load(data: dict, *, ScoringScheme, ScoringGroup, Criterion, Organisation):  # noqa: N803
    """Create or replace the scheme ``data["code"]``; return ``(scheme, created, changed)``.

    Replacing rewrites the criteria tree and bumps the version when the definition changed.
    Meeting scores keep their own frozen copy, so nothing already scored moves.
    """
    errors = validate_scheme_data(data)
    if errors:
        raise ValueError("\n".join(errors))
    scope = []
    for name in data.get("scope") or []:
        matches = list(Organisation.objects.filter(name=name)[:2])
        if len(matches) != 1:
            raise ValueError(_('Phạm vi áp dụng: không xác định được tổ chức "%(name)s".') % {"name": name})
        scope.append(matches[0])
    fields = {
        "name": data["name"],
        "source_document": data["source_document"],
        "effective_from": datetime.date.fromisoformat(data["effective_from"]),
        "effective_to": datetime.date.fromisoformat(data["effective_to"]) if data.get("effective_to") else None,
        "max_points": as_decimal(data.get("max_points", 100)),
        "inapplicable_policy": data.get("inapplicable_policy", "full"),
        "is_provisional": bool(data.get("is_provisional")),
        "provisional_note": data.get("provisional_note", ""),
        "description": data.get("description", ""),
        "levels": data["levels"],
    }
    scheme = ScoringScheme.objects.filter(code=data["code"]).first()
    created = scheme is None
    if created:
        scheme = ScoringScheme.objects.create(code=data["code"], version=1, **fields)
        before = None
    else:
        before = _comparable(scheme_to_dict(scheme))
        for name, value in fields.items():
            setattr(scheme, name, value)
        scheme.save()
        scheme.groups.all().delete()
    for group_order, group in enumerate(data["groups"], start=1):
        group_row = ScoringGroup.objects.create(
            scheme=scheme,
            order=group_order,
            code=str(group["code"]),
            name=group["name"],
            max_points=as_decimal(group["max_points"]),
        )
        for order, criterion in enumerate(group["criteria"], start=1):
            Criterion.objects.create(
                group=group_row,
                order=order,
                code=str(criterion["code"]),
                name=criterion["name"],
                guidance=criterion.get("guidance", ""),
                max_points=as_decimal(criterion["max_points"]),
                kind=criterion.get("kind", NUMBER),
                measure=criterion.get("measure", ""),
                options=criterion.get("options") or [],
                is_key=bool(criterion.get("is_key")),
                only_when_thematic=bool(criterion.get("only_when_thematic")),
                is_bonus=bool(criterion.get("is_bonus")),
            )
    scheme.scope.set(scope)
    changed = created
    if not created:
        after = _comparable(scheme_to_dict(scheme))
        if after != before:
            scheme.version += 1
            scheme.save(update_fields=["version"])
            changed = True
    return scheme, created, changed


def _comparable(data: dict) -> dict:
    return {key: value for key, value in data.items() if key != "version"}
