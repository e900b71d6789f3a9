"""Reads of the scoring app: which scheme applies, what the records say about a meeting, who may confirm.

Access always starts from the meetings and cells access selectors: a meeting outside the user's
subtrees answers 404, a write the user may not make answers 403.
"""

import datetime
from decimal import Decimal

from django.core.exceptions import PermissionDenied
from django.db.models import Count, F, Q, QuerySet, Value
from django.db.models.functions import Coalesce, NullIf
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from cells.models import PATH_STEP_WIDTH, DuesPayment, Member, MemberCommitment, Organisation
from cells.permissions import can, roles_with
from cells.selectors import (
    READ_MEMBERS,
    document_signer,
    exempt_member_ids,
    organisations_visible_to,
    suspended_member_ids,
)
from lib.dates import months_before, quarter_start
from lib.formatting import place_and_date
from meetings import indicators
from meetings.models import Attendance, Meeting, Task
from meetings.selectors import can_write_cell, get_meeting_for_user_or_404
from meetings.votes import meeting_day

from . import measures
from .engine import _fmt_percent, _percent, level_name
from .models import AnnualRating, Inspection, MeetingScore, RatingLevel, RatingRegime, ScoringScheme

# Which meetings are scored, thematic, held: one home, meetings.indicators (issue #13).
SCORED_KINDS = indicators.SCORED_KINDS
THEMATIC_KINDS = indicators.THEMATIC_KINDS
HELD_STATES = indicators.HELD_STATES
# Who confirms a cell's score or decides a rating: the managers of the level above.
CONFIRM_ROLES = roles_with("scores.confirm")  # the permission table, cells/permissions.py


# --- access ----------------------------------------------------------------------------------


def can_confirm(user, organisation: Organisation) -> bool:
    """The upper level: Khối admin or đảng ủy cơ sở officer above, or a committee member assigned to the cell."""
    if not user.is_authenticated:
        return False
    if can(user, "scores.confirm", organisation):
        return True
    if can(user, "scores.confirm_assigned", organisation):
        member = getattr(user, "member", None)
        if member is not None:
            from meetings.selectors import supervisors_of

            return supervisors_of(cell=organisation, on=timezone.localdate()).filter(pk=member.pk).exists()
    return False


def get_scored_meeting_or_404(user, pk, *, write: bool = False, confirm: bool = False) -> Meeting:
    meeting = get_meeting_for_user_or_404(user, pk, write=write)
    if confirm and not can_confirm(user, meeting.organisation):
        raise PermissionDenied
    return meeting


def score_of(meeting: Meeting) -> MeetingScore | None:
    return MeetingScore.objects.filter(meeting=meeting).select_related("scheme").first()


# --- which scheme --------------------------------------------------------------------------


def _ancestor_paths(organisation: Organisation) -> list[str]:
    return [organisation.path[:end] for end in range(PATH_STEP_WIDTH, len(organisation.path) + 1, PATH_STEP_WIDTH)]


def scheme_for(*, organisation: Organisation, day: datetime.date) -> ScoringScheme | None:
    """The scheme in force on ``day`` for ``organisation``.

    A scheme scoped to an organisation covers its subtree; the most specific scope wins (a provincial
    scheme overrides the central one below it), then the latest start (a newer scheme replaces one
    whose end was left open "until the next one").
    """
    paths = set(_ancestor_paths(organisation))
    candidates = (
        ScoringScheme.objects.filter(effective_from__lte=day)
        .filter(Q(effective_to__isnull=True) | Q(effective_to__gte=day))
        .prefetch_related("scope")
    )
    best, best_key = None, None
    for scheme in candidates:
        scope = list(scheme.scope.all())
        if scope:
            covering = [org.depth for org in scope if org.path in paths]
            if not covering:
                continue
            specificity = max(covering)
        else:
            specificity = 0
        key = (specificity, scheme.effective_from, scheme.pk)
        if best_key is None or key > best_key:
            best, best_key = scheme, key
    return best


# --- what the records say -------------------------------------------------------------------


def meeting_facts(meeting: Meeting) -> dict:
    """Every registered measure, read from the meeting's records, each with its evidence:
    ``{code: {"value", "evidence"}}`` (the measures and their loaders: scoring/facts.py).

    Each loader runs once at most, when a measure first reads it. A value of None means the records
    cannot tell: the criterion is left to the secretary.
    """
    return measures.compute(meeting)


def score_sheet_context(score: MeetingScore) -> dict:
    """The score sheet for the page and the PDF alike: groups, criteria, proposals, evidence, totals."""
    meeting = score.meeting
    snapshot = score.scheme_snapshot
    lines = {(line.group_code, line.criterion_code): line for line in score.lines.all()}
    groups = []
    for group in snapshot["groups"]:
        rows = []
        # A column's group total is shown only once some criterion of the group has points in it.
        sums: dict[str, Decimal | None] = {"proposed": None, "self": None, "official": None}
        for criterion in group["criteria"]:
            line = lines.get((group["code"], criterion["code"]))
            rows.append({"criterion": criterion, "line": line})
            if line is not None:
                for key, value in (
                    ("proposed", line.proposed_points),
                    ("self", line.self_points),
                    ("official", line.official_points),
                ):
                    if value is not None:
                        sums[key] = (sums[key] or 0) + value
        groups.append({"group": group, "rows": rows, "sums": sums})
    organisation = meeting.organisation
    day = meeting_day(meeting)
    return {
        "score": score,
        "meeting": meeting,
        "snapshot": snapshot,
        "groups": groups,
        "provisional": bool(snapshot.get("is_provisional")),
        "self_level_name": level_name(snapshot, score.self_level),
        "official_level_name": level_name(snapshot, score.official_level),
        "upper_name": organisation.parent.name if organisation.parent else "",
        "issuer_name": organisation.name,
        "issuer_code": organisation.short_code or "CB",
        "type_code": "BĐ",
        "date_line": place_and_date(day),
        "day": day,
        **dict(zip(("signer_title", "signer"), document_signer(organisation=organisation, on=day), strict=True)),
    }


# --- yearly rating ----------------------------------------------------------------------------


RATED_KINDS = (*Organisation.CELL_KINDS, *Organisation.TCCS_KINDS, Organisation.Kind.DANG_BO_BO_PHAN)


def regime_for(year: int) -> RatingRegime | None:
    return RatingRegime.objects.filter(first_year__lte=year).order_by("-first_year").first()


def rating_day(year: int) -> datetime.date:
    return datetime.date(year, 12, 31)


def rated_members(*, cell: Organisation, year: int, regime: RatingRegime) -> QuerySet[Member]:
    """Members of the cell who are rated: not exempt, not suspended, admitted at least N months before."""
    day = rating_day(year)
    admitted_before = months_before(day, regime.min_months_since_admission)
    return (
        Member.objects.filter(organisation=cell, state=Member.State.ACTIVE)
        .exclude(pk__in=exempt_member_ids(on=day))
        .exclude(pk__in=suspended_member_ids(on=day))
        .exclude(admission_decision_date__gt=admitted_before)
        .order_by("full_name", "pk")
    )


def not_rated_members(*, cell: Organisation, year: int, regime: RatingRegime) -> list[tuple[Member, str]]:
    """The cell's members who are left out of the rating, each with the reason."""
    day = rating_day(year)
    admitted_before = months_before(day, regime.min_months_since_admission)
    exempt = set(exempt_member_ids(on=day).values_list("member_id", flat=True))
    suspended = set(suspended_member_ids(on=day).values_list("member_id", flat=True))
    result = []
    for member in Member.objects.filter(organisation=cell, state=Member.State.ACTIVE).order_by("full_name", "pk"):
        if member.pk in exempt:
            result.append((member, _("Miễn công tác và sinh hoạt đảng")))
        elif member.pk in suspended:
            result.append((member, _("Đang bị đình chỉ sinh hoạt đảng")))
        elif member.admission_decision_date and member.admission_decision_date > admitted_before:
            result.append(
                (member, _("Kết nạp chưa đủ %(months)s tháng") % {"months": regime.min_months_since_admission})
            )
    return result


def member_year_evidence(*, member: Member, year: int) -> dict:
    """What the records say about a member's year: attendance, tasks on time, dues, commitment."""
    attendance = Attendance.objects.filter(
        member=member,
        meeting__state__in=HELD_STATES,
        meeting__actual_start__year=year,
        meeting__kind__in=Meeting.REGULAR_KINDS,
    ).aggregate(
        expected=Count("pk", filter=~Q(presence__in=Attendance.OUTSIDE_BASE_VALUES)),
        present=Count("pk", filter=Q(presence__in=Attendance.PRESENT_VALUES)),
        unexcused=Count("pk", filter=Q(presence=Attendance.Presence.ABSENT_UNEXCUSED)),
    )
    tasks = (
        member.meeting_tasks.filter(due_date__year=year)
        .exclude(status=Task.Status.CANCELLED)
        .aggregate(
            total=Count("pk", distinct=True),
            on_time=Count("pk", distinct=True, filter=indicators.task_on_time_q(undated_by=None)),
        )
    )
    evidence = {
        "attendance_expected": attendance["expected"],
        "attendance_present": attendance["present"],
        "attendance_percent": _percent(attendance["present"], attendance["expected"]),
        "unexcused_absences": attendance["unexcused"],
        "tasks_total": tasks["total"],
        "tasks_on_time": tasks["on_time"],
        "tasks_on_time_percent": _percent(tasks["on_time"], tasks["total"]),
    }
    dues = DuesPayment.objects.filter(member=member, month__year=year).aggregate(
        months=Count("pk"), paid=Count("pk", filter=Q(amount_paid__gte=F("amount_due")))
    )
    evidence["dues_months"] = dues["months"]
    evidence["dues_paid_months"] = dues["paid"]
    evidence["commitment"] = MemberCommitment.objects.filter(member=member, year=year).exists()
    return evidence


def tccs_of(organisation: Organisation) -> Organisation:
    """The grassroots organisation (TCCS) an organisation belongs to (itself when it is one)."""
    ancestors = Organisation.objects.filter(
        path__in=_ancestor_paths(organisation), kind__in=Organisation.TCCS_KINDS
    ).order_by("depth")
    return ancestors.first() or organisation


def quota_check(*, tccs: Organisation, year: int, regime: RatingRegime, changes: dict | None = None) -> list[str]:
    """Warnings of the "HTXSNV ≤ N % of HTTNV" rule over the members rated in a TCCS (HD 21-HD/BTCTW: "ở từng
    tổ chức cơ sở đảng"); the base is those rated HTTNV, or HTTNV and HTXSNV where the regime reads it so
    (``RatingRegime.quota_base_includes_excellent``, which says why). A đảng bộ with 3 HTXSNV and 14 HTTNV
    is warned: 3 > 20 % × 14 = 2,8.

    ``changes`` maps rating id to the level about to be decided, so the warning comes before the decision.
    Counted in SQL over decided (else proposed) levels.
    """
    if regime.excellent_quota_percent is None:
        return []
    ratings = AnnualRating.objects.filter(year=year, member__isnull=False, organisation__path__startswith=tccs.path)
    current = Coalesce(NullIf("decided_level", Value("")), "proposed_level")
    counts = ratings.annotate(current_level=current).aggregate(
        excellent=Count("pk", filter=Q(current_level=RatingLevel.EXCELLENT)),
        good=Count("pk", filter=Q(current_level=RatingLevel.GOOD)),
    )
    excellent, good = counts["excellent"], counts["good"]
    # The levels about to be decided replace the rows' current ones.
    for row in ratings.filter(pk__in=list(changes or {})).annotate(current_level=current).values("pk", "current_level"):
        new_level = (changes or {})[row["pk"]]
        excellent += (new_level == RatingLevel.EXCELLENT) - (row["current_level"] == RatingLevel.EXCELLENT)
        good += (new_level == RatingLevel.GOOD) - (row["current_level"] == RatingLevel.GOOD)
    base = good + excellent if regime.quota_base_includes_excellent else good
    allowed = (Decimal(base) * regime.excellent_quota_percent / 100).to_integral_value(rounding="ROUND_FLOOR")
    if excellent > allowed:
        counted = _("đảng viên HTTNV và HTXSNV") if regime.quota_base_includes_excellent else _("đảng viên HTTNV")
        return [
            _(
                "%(tccs)s: %(excellent)s đảng viên HTXSNV, vượt %(quota)s%% của %(base)s %(counted)s "
                "(tối đa %(allowed)s)."
            )
            % {
                "tccs": tccs.name,
                "excellent": excellent,
                "quota": regime.excellent_quota_percent,
                "base": base,
                "counted": counted,
                "allowed": int(allowed),
            }
        ]
    return []


def cell_excellence_problems(*, cell: Organisation, year: int, regime: RatingRegime) -> list[str]:
    """Why an organisation cannot be rated HTXSNV (empty when it can).

    A cell is judged on its members' decided levels; a đảng bộ on its direct sub-units' decided levels.
    """
    if cell.is_cell:
        ratings = AnnualRating.objects.filter(year=year, organisation=cell, member__isnull=False)
    else:
        ratings = AnnualRating.objects.filter(year=year, organisation__parent=cell, member__isnull=True)
    counts = ratings.aggregate(
        total=Count("pk"),
        undecided=Count("pk", filter=Q(decided_level="")),
        done=Count("pk", filter=Q(decided_level__in=[RatingLevel.EXCELLENT, RatingLevel.GOOD, RatingLevel.DONE])),
        good=Count("pk", filter=Q(decided_level__in=[RatingLevel.EXCELLENT, RatingLevel.GOOD])),
    )
    problems = []
    if not counts["total"]:
        return [
            _("Chưa có kết quả xếp loại đảng viên của chi bộ.")
            if cell.is_cell
            else _("Chưa có kết quả xếp loại các tổ chức trực thuộc.")
        ]
    if counts["undecided"]:
        problems.append(
            _("Còn %(count)s đảng viên hoặc tổ chức chưa được quyết định xếp loại.") % {"count": counts["undecided"]}
        )
    done = _percent(counts["done"], counts["total"]) or 0
    good = _percent(counts["good"], counts["total"]) or 0
    if done < regime.cell_excellent_min_done_percent:
        problems.append(
            _("Chỉ %(share)s từ HTNV trở lên (cần %(need)s%%).")
            % {"share": _fmt_percent(done), "need": regime.cell_excellent_min_done_percent}
        )
    if good < regime.cell_excellent_min_good_percent:
        problems.append(
            _("Chỉ %(share)s từ HTTNV trở lên (cần %(need)s%%).")
            % {"share": _fmt_percent(good), "need": regime.cell_excellent_min_good_percent}
        )
    return problems


def get_rating_cell_or_404(user, pk, *, write: bool = False) -> Organisation:
    """An organisation rated yearly (a cell, a TCCS, a đảng bộ bộ phận) whose ratings the user reads (404
    otherwise); ``write``: its secretary or managers (403 otherwise)."""
    try:
        cell = (
            organisations_visible_to(user, roles=READ_MEMBERS).select_related("parent").get(pk=pk, kind__in=RATED_KINDS)
        )
    except (Organisation.DoesNotExist, ValueError, TypeError):
        raise Http404 from None
    if write and not can_write_cell(user, cell):
        raise PermissionDenied
    return cell


def get_rating_for_user_or_404(user, pk) -> AnnualRating:
    """A rating of the user's subtrees, or the user's own rating as a member."""
    query = Q(organisation__in=organisations_visible_to(user, roles=READ_MEMBERS))
    if user.is_authenticated:
        query |= Q(member__user=user)
    try:
        return AnnualRating.objects.select_related("organisation", "member", "regime").filter(query).get(pk=pk)
    except (AnnualRating.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def ratings_of_cell(*, cell: Organisation, year: int) -> QuerySet[AnnualRating]:
    return (
        AnnualRating.objects.filter(organisation=cell, year=year)
        .select_related("member", "regime")
        .order_by(F("member").asc(nulls_first=True), "member__full_name", "pk")
    )


def ratings_of_user(user) -> QuerySet[AnnualRating]:
    """The user's own yearly ratings as a member."""
    return AnnualRating.objects.filter(member__user=user).select_related("organisation").order_by("-year")


# --- supervision -------------------------------------------------------------------------------


def cells_without_upper_visit(
    *, user, start: datetime.date, end: datetime.date | None = None
) -> QuerySet[Organisation]:
    """Visible cells with no upper-level visit in the quarter starting on ``start``
    (meetings.indicators.cells_without_visit: the dashboards' warning and the reminder read the same)."""
    visible = organisations_visible_to(user, roles=READ_MEMBERS).values("pk")
    return (
        indicators.cells_without_visit(quarter=quarter_start(start))
        .filter(pk__in=visible)
        .select_related("parent")
        .order_by("path")
    )


def inspections_visible_to(user) -> QuerySet[Inspection]:
    return Inspection.objects.filter(
        organisation__in=organisations_visible_to(user, roles=READ_MEMBERS)
    ).select_related("organisation")


def can_inspect(user, cell: Organisation) -> bool:
    return can(user, "inspections.make", cell)


def get_inspection_for_user_or_404(user, pk, *, write: bool = False) -> Inspection:
    try:
        inspection = inspections_visible_to(user).get(pk=pk)
    except (Inspection.DoesNotExist, ValueError, TypeError):
        raise Http404 from None
    if write and not can_inspect(user, inspection.organisation):
        raise PermissionDenied
    return inspection
