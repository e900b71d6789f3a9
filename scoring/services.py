"""Writes of the scoring app. Each service validates, runs in one transaction and writes an audit row."""

import datetime
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cells.models import Organisation
from cells.services import audit_log, snapshot
from meetings.models import Meeting

from . import engine, schemes, selectors
from .models import (
    AnnualRating,
    Criterion,
    Inspection,
    MeetingScore,
    MeetingScoreLine,
    RatingAmendment,
    RatingLevel,
    ScoringGroup,
    ScoringScheme,
)

# --- schemes -----------------------------------------------------------------------------------


@transaction.atomic
def scheme_import(*, data: dict, by=None) -> tuple[ScoringScheme, bool, bool]:
    """Create or replace a scheme from its JSON form; scores already made keep their frozen copy."""
    existing = ScoringScheme.objects.filter(code=data.get("code") or "").first() if isinstance(data, dict) else None
    before = schemes.scheme_to_dict(existing) if existing else None
    try:
        scheme, created, changed = schemes.scheme_load(
            data, ScoringScheme=ScoringScheme, ScoringGroup=ScoringGroup, Criterion=Criterion, Organisation=Organisation
        )
    except ValueError as error:
        raise ValidationError(str(error).splitlines()) from error
    if changed:
        audit_log(
            actor=by,
            action="scoring.scheme.import",
            instance=scheme,
            before=before,
            after=schemes.scheme_to_dict(scheme),
        )
    return scheme, created, changed


def scheme_export(*, scheme: ScoringScheme) -> dict:
    return schemes.scheme_to_dict(scheme)


@transaction.atomic
def scheme_touch(*, scheme: ScoringScheme, before: dict | None, by=None) -> ScoringScheme:
    """After an edit in the admin: bump the version when the definition changed, and log it."""
    after = schemes.scheme_to_dict(scheme)
    if before is not None and {k: v for k, v in before.items() if k != "version"} == {
        k: v for k, v in after.items() if k != "version"
    }:
        return scheme
    if before is not None:
        ScoringScheme.objects.filter(pk=scheme.pk).update(version=scheme.version + 1)
        scheme.refresh_from_db()
        after["version"] = scheme.version
    audit_log(actor=by, action="scoring.scheme.edit", instance=scheme, before=before, after=after)
    return scheme


# --- meeting scores ----------------------------------------------------------------------------


def _log(*, by, action, score, instance=None, before=None, after=None):
    instance = instance or score
    audit_log(
        actor=by,
        action=action,
        instance=instance,
        organisation=score.meeting.organisation,
        before=before,
        after=after if after is not None else snapshot(instance),
    )


def _check_scorable(meeting: Meeting) -> None:
    if meeting.kind not in selectors.SCORED_KINDS:
        raise ValidationError(_("Loại buổi sinh hoạt này không chấm điểm chất lượng."))
    if meeting.state not in selectors.HELD_STATES:
        raise ValidationError(_("Chỉ chấm điểm buổi sinh hoạt đã diễn ra."))


def _applicable(criterion: dict, facts: dict) -> bool:
    return not criterion.get("only_when_thematic") or bool(facts.get("thematic", {}).get("value"))


@transaction.atomic
def meeting_score_prefill(*, meeting: Meeting, by=None) -> MeetingScore:
    """Propose every criterion's points from the records, with the evidence (design §3).

    The first call picks the scheme in force on the meeting's date and scope and freezes a copy of it
    on the score; later calls refresh the proposals of a score still being drafted, with that same
    frozen copy. A score the cell has adopted is never recomputed.
    """
    meeting = Meeting.objects.select_for_update().select_related("organisation").get(pk=meeting.pk)
    _check_scorable(meeting)
    score = MeetingScore.objects.select_for_update().filter(meeting=meeting).first()
    if score is not None and score.state != MeetingScore.State.DRAFT:
        raise ValidationError(_("Chi bộ đã thông qua điểm buổi sinh hoạt; không đề xuất lại."))
    if score is None:
        scheme = selectors.scheme_for(organisation=meeting.organisation, day=selectors.meeting_day(meeting))
        if scheme is None:
            raise ValidationError(
                _("Không có bộ tiêu chí chấm điểm áp dụng cho ngày %(day)s.")
                % {"day": selectors.meeting_day(meeting).strftime("%d/%m/%Y")}
            )
        score = MeetingScore.objects.create(
            meeting=meeting,
            scheme=scheme,
            scheme_version=scheme.version,
            scheme_snapshot=schemes.scheme_to_dict(scheme),
        )
        created = True
    else:
        created = False
    facts = selectors.meeting_facts(meeting)
    score.facts = facts
    score.save(update_fields=["facts", "updated_at"])
    existing = {(line.group_code, line.criterion_code): line for line in score.lines.all()}
    order = 0
    for group, criterion in engine.iter_criteria(score.scheme_snapshot):
        order += 1
        key = (group["code"], criterion["code"])
        proposed, evidence = engine.propose(criterion, facts)
        applicable = _applicable(criterion, facts)
        if not applicable:
            evidence = _("Không áp dụng: tháng này không có sinh hoạt chuyên đề.")
        line = existing.get(key)
        if line is None:
            line = MeetingScoreLine(
                score=score,
                order=order,
                group_code=key[0],
                criterion_code=key[1],
                max_points=schemes.as_decimal(criterion["max_points"]),
            )
        # A manual entry the secretary already made survives a refresh; a proposal follows the records.
        if line.self_points is None or line.self_points == line.proposed_points:
            line.self_points = proposed if applicable else None
        line.proposed_points = proposed if applicable else None
        line.applicable = applicable
        line.evidence = evidence
        line.save()
    _log(
        by=by,
        action="scoring.meetingscore.create" if created else "scoring.meetingscore.prefill",
        score=score,
        after={
            "scheme": score.scheme.code,
            "version": score.scheme_version,
            "proposed": {
                f"{line.group_code}/{line.criterion_code}": str(line.proposed_points) for line in score.lines.all()
            },
        },
    )
    return score


def _parse_points(raw, line: MeetingScoreLine, criterion: dict) -> Decimal | None:
    if raw in (None, ""):
        return None
    try:
        value = schemes.as_decimal(raw).quantize(Decimal("0.01"))
    except (InvalidOperation, ValueError):
        raise ValidationError({_field(line): _("Điểm phải là số.")}) from None
    if value < 0 or value > line.max_points:
        raise ValidationError(
            {
                _field(line): _("Điểm của tiêu chí %(code)s phải từ 0 đến %(max)s.")
                % {"code": line.criterion_code, "max": schemes.plain_number(line.max_points)}
            }
        )
    if criterion.get("kind") == schemes.CHOICE:
        allowed = {schemes.as_decimal(option["points"]) for option in criterion.get("options") or []}
        if value not in allowed:
            raise ValidationError(
                {
                    _field(line): _("Tiêu chí %(code)s chỉ nhận các mức %(levels)s điểm.")
                    % {
                        "code": line.criterion_code,
                        "levels": ", ".join(str(schemes.plain_number(p)) for p in sorted(allowed, reverse=True)),
                    }
                }
            )
    return value


def _field(line: MeetingScoreLine) -> str:
    return f"line_{line.pk}"


def _criteria_by_key(score: MeetingScore) -> dict:
    return {
        (group["code"], criterion["code"]): criterion
        for group, criterion in engine.iter_criteria(score.scheme_snapshot)
    }


def _totals(score: MeetingScore, attribute: str) -> dict:
    lines = list(score.lines.all())
    points = {(line.group_code, line.criterion_code): getattr(line, attribute) for line in lines}
    applicable = {(line.group_code, line.criterion_code): line.applicable for line in lines}
    return engine.classify(score.scheme_snapshot, points, applicable)


def _lock_score(score: MeetingScore) -> MeetingScore:
    return MeetingScore.objects.select_for_update().select_related("meeting", "meeting__organisation").get(pk=score.pk)


@transaction.atomic
def meeting_score_self_save(*, score: MeetingScore, points: dict, weaknesses: str = "", by=None) -> MeetingScore:
    """Record the cell's points: ``points`` maps line id to points (None or "" leaves it empty)."""
    score = _lock_score(score)
    if score.state != MeetingScore.State.DRAFT:
        raise ValidationError(_("Chi bộ đã thông qua điểm; không sửa được nữa."))
    criteria = _criteria_by_key(score)
    for line in score.lines.select_for_update():
        if line.pk not in points or not line.applicable:
            continue
        value = _parse_points(points[line.pk], line, criteria[(line.group_code, line.criterion_code)])
        if value != line.self_points:
            before = snapshot(line)
            line.self_points = value
            line.save(update_fields=["self_points"])
            _log(
                by=by,
                action="scoring.meetingscoreline.self",
                score=score,
                instance=line,
                before=before,
                after=snapshot(line),
            )
    if weaknesses != score.weaknesses:
        before = snapshot(score)
        score.weaknesses = weaknesses.strip()
        score.save(update_fields=["weaknesses", "updated_at"])
        _log(by=by, action="scoring.meetingscore.update", score=score, before=before, after=snapshot(score))
    return score


@transaction.atomic
def meeting_score_self_adopt(*, score: MeetingScore, by=None) -> MeetingScore:
    """The cell adopts its self-score at the meeting: every applicable criterion must have points."""
    score = _lock_score(score)
    if score.state != MeetingScore.State.DRAFT:
        raise ValidationError(_("Điểm đã được thông qua."))
    missing = [line.criterion_code for line in score.lines.all() if line.applicable and line.self_points is None]
    if missing:
        raise ValidationError(_("Còn tiêu chí chưa chấm: %(codes)s.") % {"codes": ", ".join(missing)})
    before = snapshot(score)
    result = _totals(score, "self_points")
    score.self_total = result["total"]
    score.self_level = result["level"]
    score.self_adopted_at = timezone.now()
    score.self_adopted_by = by if getattr(by, "is_authenticated", False) else None
    score.state = MeetingScore.State.SELF_ADOPTED
    score.save()
    _log(by=by, action="scoring.meetingscore.self_adopt", score=score, before=before, after=snapshot(score))
    return score


def already_confirmed_message(score: MeetingScore) -> str:
    when = timezone.localtime(score.confirmed_at).strftime("%d/%m/%Y") if score.confirmed_at else ""
    return _(
        "Cấp trên đã xác nhận điểm của buổi sinh hoạt này (ngày %(date)s); kết quả đã xác nhận không xác nhận lại được."
    ) % {"date": when}


@transaction.atomic
def meeting_score_confirm(
    *, score: MeetingScore, points: dict | None = None, reason: str = "", by=None
) -> MeetingScore:
    """The upper level confirms the cell's score or changes it with a reason; its level is the official one.

    Once, like a signature: a confirmed score is refused (ValidationError), its reason never overwritten.

    ``points`` maps line id to the upper level's points; a line left out keeps the cell's points.
    Every changed line leaves its own audit row.
    """
    score = _lock_score(score)
    if score.state == MeetingScore.State.DRAFT:
        raise ValidationError(_("Chi bộ chưa thông qua điểm tự chấm."))
    if score.state == MeetingScore.State.CONFIRMED:
        # The official level is a record: confirming again would overwrite its points, reason and confirmer.
        raise ValidationError(already_confirmed_message(score))
    criteria = _criteria_by_key(score)
    points = points or {}
    lines = list(score.lines.select_for_update())
    new_values: dict[int, Decimal | None] = {}
    for line in lines:
        if not line.applicable:
            new_values[line.pk] = None
            continue
        raw = points.get(line.pk)
        value = (
            line.self_points
            if raw in (None, "")
            else _parse_points(raw, line, criteria[(line.group_code, line.criterion_code)])
        )
        new_values[line.pk] = value
    changed = [line for line in lines if line.applicable and new_values[line.pk] != line.self_points]
    reason = (reason or "").strip()
    if changed and not reason:
        raise ValidationError({"reason": _("Cần ghi lý do khi điều chỉnh điểm của chi bộ.")})
    for line in lines:
        before = snapshot(line)
        line.official_points = new_values[line.pk]
        line.override_reason = reason[:500] if line in changed else ""
        if snapshot(line) != before:
            line.save(update_fields=["official_points", "override_reason"])
            if line in changed:
                _log(
                    by=by,
                    action="scoring.meetingscoreline.override",
                    score=score,
                    instance=line,
                    before=before,
                    after={**snapshot(line), "cell_points": str(line.self_points)},
                )
    before = snapshot(score)
    result = _totals(score, "official_points")
    score.official_total = result["total"]
    score.official_level = result["level"]
    score.confirm_reason = reason
    score.confirmed_at = timezone.now()
    score.confirmed_by = by if getattr(by, "is_authenticated", False) else None
    score.state = MeetingScore.State.CONFIRMED
    score.save()
    _log(by=by, action="scoring.meetingscore.confirm", score=score, before=before, after=snapshot(score))
    return score


def meeting_score_prefill_bulk(*, meetings, by=None, adopt: bool = False) -> int:
    """Pre-fill the scores of many held meetings (e.g. the demo data); return how many were scored.

    With ``adopt`` the criteria the records cannot decide get their full points and the cell's
    self-score is adopted, so the demo shows levels. Meetings already scored, not held, or of a kind
    that is not scored are skipped; a meeting with no scheme in force is skipped too.
    """
    count = 0
    for meeting in meetings:
        if meeting.kind not in selectors.SCORED_KINDS or meeting.state not in selectors.HELD_STATES:
            continue
        if MeetingScore.objects.filter(meeting=meeting).exists():
            continue
        try:
            score = meeting_score_prefill(meeting=meeting, by=by)
        except ValidationError:
            continue
        if adopt:
            points = {
                line.pk: line.proposed_points if line.proposed_points is not None else line.max_points
                for line in score.lines.filter(applicable=True, self_points__isnull=True)
            }
            meeting_score_self_save(score=score, points=points, weaknesses=score.weaknesses, by=by)
            meeting_score_self_adopt(score=score, by=by)
        count += 1
    return count


# --- yearly rating -----------------------------------------------------------------------------


def _rating_log(*, by, action, rating, before=None):
    audit_log(
        actor=by,
        action=action,
        instance=rating,
        organisation=rating.organisation,
        before=before,
        after=snapshot(rating),
    )


@transaction.atomic
def annual_rating_open(*, cell: Organisation, year: int, by=None) -> list[AnnualRating]:
    """Open the year's rating of an organisation and, for a cell, of its rated members with their evidence.

    A TCCS or đảng bộ bộ phận gets only its own row (its cells are opened one by one). Members left out (exempt, suspended, admitted less than the regime's months before) get no row.
    Opening again adds members who became eligible and refreshes the evidence of open rows.
    """
    if cell.kind not in selectors.RATED_KINDS:
        raise ValidationError({"organisation": _("Tổ chức này không đánh giá, xếp loại hằng năm.")})
    regime = selectors.regime_for(year)
    if regime is None:
        raise ValidationError(
            {"year": _("Chưa có quy định đánh giá, xếp loại áp dụng cho năm %(year)s.") % {"year": year}}
        )
    rows = []
    rating, created = AnnualRating.objects.get_or_create(
        year=year, organisation=cell, member=None, defaults={"regime": regime}
    )
    if created:
        _rating_log(by=by, action="scoring.annualrating.open", rating=rating)
    rows.append(rating)
    if not cell.is_cell:
        return rows
    for member in selectors.rated_members(cell=cell, year=year, regime=regime):
        evidence = selectors.member_year_evidence(member=member, year=year)
        found = AnnualRating.objects.filter(year=year, member=member).first()
        if found is None:
            found = AnnualRating.objects.create(
                year=year, member=member, organisation=cell, regime=regime, evidence=evidence
            )
            _rating_log(by=by, action="scoring.annualrating.open", rating=found)
        elif found.state == AnnualRating.State.OPEN and found.evidence != evidence:
            AnnualRating.objects.filter(pk=found.pk).update(evidence=evidence)
        rows.append(found)
    return rows


def _check_level(level: str, field: str) -> None:
    if level not in RatingLevel.values:
        raise ValidationError({field: _("Chọn một mức xếp loại.")})


def _lock_rating(rating: AnnualRating) -> AnnualRating:
    return (
        AnnualRating.objects.select_for_update(of=("self",))
        .select_related("organisation", "member", "regime")
        .get(pk=rating.pk)
    )


@transaction.atomic
def annual_rating_self_assess(
    *, rating: AnnualRating, level: str, comment: str = "", score=None, by=None
) -> AnnualRating:
    rating = _lock_rating(rating)
    if rating.state in (AnnualRating.State.PROPOSED, AnnualRating.State.DECIDED):
        raise ValidationError(_("Đã có đề xuất xếp loại; không sửa tự đánh giá được nữa."))
    _check_level(level, "self_level")
    if score is not None and not (0 <= Decimal(score) <= 100):
        raise ValidationError({"self_score": _("Điểm tự chấm từ 0 đến 100.")})
    before = snapshot(rating)
    rating.self_level, rating.self_comment, rating.self_score = level, comment.strip(), score
    rating.state = AnnualRating.State.SELF_ASSESSED
    rating.save()
    _rating_log(by=by, action="scoring.annualrating.self_assess", rating=rating, before=before)
    return rating


@transaction.atomic
def annual_rating_propose(*, rating: AnnualRating, level: str, note: str = "", by=None) -> AnnualRating:
    rating = _lock_rating(rating)
    if rating.state == AnnualRating.State.DECIDED:
        raise ValidationError(_("Cấp trên đã quyết định xếp loại."))
    if rating.state == AnnualRating.State.OPEN:
        raise ValidationError(_("Chưa có tự đánh giá, xếp loại."))
    _check_level(level, "proposed_level")
    if rating.member_id is None and level == RatingLevel.EXCELLENT:
        problems = selectors.cell_excellence_problems(cell=rating.organisation, year=rating.year, regime=rating.regime)
        if problems:
            raise ValidationError({"proposed_level": [_("Tổ chức chưa đủ điều kiện HTXSNV.")] + problems})
    before = snapshot(rating)
    rating.proposed_level, rating.proposal_note = level, note.strip()
    rating.proposed_by = by if getattr(by, "is_authenticated", False) else None
    rating.state = AnnualRating.State.PROPOSED
    rating.save()
    _rating_log(by=by, action="scoring.annualrating.propose", rating=rating, before=before)
    return rating


def annual_rating_warnings(*, rating: AnnualRating, level: str) -> list[str]:
    """What the upper committee is warned of before deciding ``level`` for ``rating``."""
    if not rating.member_id:
        return []
    tccs = selectors.tccs_of(rating.organisation)
    return selectors.quota_check(tccs=tccs, year=rating.year, regime=rating.regime, changes={rating.pk: level})


@transaction.atomic
def annual_rating_decide(
    *, rating: AnnualRating, level: str, note: str = "", acknowledge_warnings: bool = False, by=None
) -> AnnualRating:
    """The upper committee's decision. The quota rule warns first: the decision needs the warning acknowledged."""
    rating = _lock_rating(rating)
    if rating.state not in (AnnualRating.State.PROPOSED, AnnualRating.State.DECIDED):
        raise ValidationError(_("Chưa có đề xuất xếp loại của chi bộ."))
    _check_level(level, "decided_level")
    if rating.member_id is None and level == RatingLevel.EXCELLENT:
        problems = selectors.cell_excellence_problems(cell=rating.organisation, year=rating.year, regime=rating.regime)
        if problems:
            raise ValidationError({"decided_level": [_("Tổ chức chưa đủ điều kiện HTXSNV.")] + problems})
    warnings = annual_rating_warnings(rating=rating, level=level)
    if warnings and not acknowledge_warnings:
        raise ValidationError({"acknowledge_warnings": warnings})
    if rating.state == AnnualRating.State.DECIDED:
        return _amend_decision(rating=rating, level=level, reason=note, by=by)
    if level != rating.proposed_level and not note.strip():
        raise ValidationError({"note": _("Cần ghi lý do khi quyết định khác mức chi bộ đề xuất.")})
    before = snapshot(rating)
    rating.decided_level, rating.decision_note = level, note.strip()
    rating.decided_by = by if getattr(by, "is_authenticated", False) else None
    rating.decided_at = timezone.now()
    rating.state = AnnualRating.State.DECIDED
    rating.save()
    _rating_log(by=by, action="scoring.annualrating.decide", rating=rating, before=before)
    return rating


def _amend_decision(*, rating: AnnualRating, level: str, reason: str, by=None) -> AnnualRating:
    """A decided rating is an official record: it changes only with an amendment row saying why.

    The original decision (note, who, when) stays as it was; the amendment carries the new level's reason.
    Called inside ``annual_rating_decide``'s transaction, with the rating locked.
    """
    if level == rating.decided_level:
        raise ValidationError({"level": _("Mức xếp loại không thay đổi so với quyết định đã ban hành.")})
    if not reason.strip():
        raise ValidationError({"note": _("Quyết định đã ban hành: cần ghi lý do sửa đổi.")})
    before = snapshot(rating)
    RatingAmendment.objects.create(
        rating=rating,
        level_before=rating.decided_level,
        level_after=level,
        reason=reason.strip(),
        by=by if getattr(by, "is_authenticated", False) else None,
    )
    rating.decided_level = level
    rating.save(update_fields=["decided_level", "updated_at"])
    _rating_log(by=by, action="scoring.annualrating.amend", rating=rating, before=before)
    return rating


# --- inspections -------------------------------------------------------------------------------


INSPECTION_FIELDS = (
    "inspected_on",
    "inspectors",
    "member_register_ok",
    "minutes_book_ok",
    "dues_book_ok",
    "documents_ok",
    "findings",
    "follow_up",
    "follow_up_due",
)


@transaction.atomic
def inspection_create(*, organisation: Organisation, by=None, **fields) -> Inspection:
    unknown = set(fields) - set(INSPECTION_FIELDS)
    if unknown:
        raise TypeError(f"unknown inspection fields: {sorted(unknown)}")
    errors = {}
    if not organisation.is_cell:
        errors["organisation"] = _("Chỉ kiểm tra sổ sách của chi bộ.")
    inspected_on = fields.get("inspected_on")
    if inspected_on is None:
        errors["inspected_on"] = _("Cần ghi ngày kiểm tra.")
    elif inspected_on > timezone.localdate():
        errors["inspected_on"] = _("Ngày kiểm tra không thể ở tương lai.")
    if not (fields.get("findings") or "").strip():
        errors["findings"] = _("Cần ghi nhận xét, kết luận kiểm tra.")
    due = fields.get("follow_up_due")
    if due and inspected_on and due < inspected_on:
        errors["follow_up_due"] = _("Hạn khắc phục phải sau ngày kiểm tra.")
    if due and not (fields.get("follow_up") or "").strip():
        errors["follow_up"] = _("Có hạn khắc phục thì cần ghi yêu cầu khắc phục.")
    if errors:
        raise ValidationError(errors)
    assert inspected_on is not None  # required (refused above when empty)
    inspection = Inspection.objects.create(
        organisation=organisation,
        year=inspected_on.year,
        recorded_by=by if getattr(by, "is_authenticated", False) else None,
        **fields,
    )
    audit_log(
        actor=by,
        action="scoring.inspection.create",
        instance=inspection,
        organisation=organisation,
        after=snapshot(inspection),
    )
    return inspection


@transaction.atomic
def inspection_follow_up_done(*, inspection: Inspection, done_on: datetime.date, result: str, by=None) -> Inspection:
    inspection = Inspection.objects.select_for_update().get(pk=inspection.pk)
    errors = {}
    if not inspection.follow_up:
        errors["result"] = _("Lần kiểm tra này không có yêu cầu khắc phục.")
    if done_on < inspection.inspected_on or done_on > timezone.localdate():
        errors["done_on"] = _("Ngày khắc phục phải từ ngày kiểm tra đến hôm nay.")
    if not result.strip():
        errors["result"] = _("Cần ghi kết quả khắc phục.")
    if errors:
        raise ValidationError(errors)
    before = snapshot(inspection)
    inspection.follow_up_done_on, inspection.follow_up_result = done_on, result.strip()
    inspection.save()
    audit_log(
        actor=by,
        action="scoring.inspection.follow_up",
        instance=inspection,
        organisation=inspection.organisation,
        before=before,
        after=snapshot(inspection),
    )
    return inspection
