"""The figures of the targets, counted by the database with grouped, set-based queries.

Every figure is counted by the database with grouped, set-based queries: a dashboard runs a fixed
number of queries whatever the number of cells, members or meetings. Python only arranges the few
result rows (one per organisation, one per month) for display, and adds up the per-group rows into
the total row.

Figures are grouped by a prefix of the organisation path: the direct children of the scope (its
TCCS for the Khối), or the full path (one row per cell). Access starts from the cells access
selectors: the scope is an organisation the user may read, and everything is inside its subtree.
"""

import datetime
from dataclasses import dataclass
from urllib.parse import urlencode

from django.db.models import (
    Count,
    ExpressionWrapper,
    F,
    FilteredRelation,
    IntegerField,
    Q,
    QuerySet,
    Sum,
)
from django.db.models.functions import ExtractQuarter
from django.utils import timezone
from django.utils.translation import gettext as _

from cells.models import (
    PATH_STEP_WIDTH,
    CellDocument,
    Organisation,
    RequiredDocumentType,
)
from lib import dates
from lib.formatting import fmt_int, fmt_percent
from meetings import indicators
from meetings.models import Meeting
from scoring.models import AnnualRating, RatingLevel

from . import rollups
from .counting import (
    ATTENDANCE_KINDS,
    GOOD_LEVELS,
    _active_in,
    _document_condition,
    _group,
    _held,
    _of_cells_in,
    cells_in,
    members_in,
)
from .periods import NEVER, Period, _months_span, month_in_progress
from .targets import FAILED, IN_PROGRESS, MET, NO_DATA, STATUS_LABELS, Target, targets


@dataclass
class Figure:
    """A target's figure: ``num`` of ``den`` units due so far, and ``pending`` units still in progress.

    ``open``: the target's period has not ended on the day it is read (``today``).
    """

    target: Target
    num: float
    den: float
    pending: float = 0
    open: bool = False

    @property
    def value(self) -> float | None:
        if self.target.measure == "count":
            return self.num
        if not self.den:
            return None
        if self.target.measure == "mean":  # the numerator is already a sum of percentages
            return self.num / self.den
        return self.num * 100 / self.den

    @property
    def status(self) -> str:
        """met / failed / in_progress / none (nothing to judge yet, and nothing pending)."""
        if not self.den:
            return IN_PROGRESS if self.pending else NO_DATA
        on_track = self.target.is_met(self.value)
        if not (self.open or self.pending):
            return MET if on_track else FAILED
        if not on_track and self.target.fails_early:
            return FAILED
        return IN_PROGRESS

    @property
    def met(self) -> bool | None:
        """True or False once judged for good; None while in progress or with nothing to judge."""
        return {MET: True, FAILED: False}.get(self.status)

    @property
    def on_track(self) -> bool | None:
        """While in progress: whether what is due so far meets the target."""
        return self.target.is_met(self.value) if self.den else None

    @property
    def status_label(self) -> str:
        return str(STATUS_LABELS[self.status])

    @property
    def drill_query(self) -> str:
        return urlencode(self.target.drill_params)

    @property
    def display(self) -> str:
        if self.target.measure == "count":
            return fmt_int(self.num) if self.den else "—"
        if self.target.measure == "mean":
            return fmt_percent(self.value)
        if not self.den:
            return "—"
        return f"{fmt_percent(self.value)} ({fmt_int(self.num)}/{fmt_int(self.den)})"

    @property
    def pending_display(self) -> str:
        """ "75 chi bộ-tháng đang thực hiện", or "" when nothing is pending."""
        if not self.pending:
            return ""
        return _("%(count)s %(unit)s đang thực hiện") % {
            "count": fmt_int(self.pending),
            "unit": self.target.unit or _("đơn vị"),
        }

    @property
    def shortfall_share(self) -> float:
        """How far from the target, 0 to 1, to rank the units needing attention."""
        if not self.den:
            return 0.0
        if self.target.measure == "count":
            return min(self.num / self.den, 1.0)
        if self.target.measure == "mean":
            return max(self.target.threshold - (self.value or 0), 0) / 100
        return max(self.den - self.num, 0) / self.den

    @property
    def reason(self) -> str:
        """Why it fails, in words: "2 chi bộ-tháng không sinh hoạt thường kỳ", or the figure against its goal."""
        if self.target.shortfall:
            short = self.num if self.target.measure == "count" else self.den - self.num
            return self.target.shortfall % {"n": fmt_int(short)}
        return _("%(label)s: %(value)s (mục tiêu %(goal)s)") % {
            "label": self.target.label,
            "value": self.display,
            "goal": self.target.goal,
        }


# --- grouped counts ---------------------------------------------------------------------------


def _organisation_counts(scope, period, length, today) -> list[dict]:
    """Per group: TCCS, chi bộ and cells of the subtree (one query)."""
    months = period.ended_months(today)
    quarters = period.ended_quarters(today)
    rows = list(
        Organisation.objects.filter(_active_in(period), path__startswith=scope.path)
        .order_by()
        .values(grp=_group("path", length))
        .annotate(
            tccs=Count("pk", filter=Q(kind__in=Organisation.TCCS_KINDS)),
            chi_bo=Count("pk", filter=Q(kind=Organisation.Kind.CHI_BO)),
            cells=Count("pk", filter=Q(kind__in=Organisation.CELL_KINDS)),
        )
    )
    for row in rows:
        # The units already due: cell-months and cell-quarters that have ended.
        row["cell_months"] = row["cells"] * len(months)
        row["cell_quarters"] = row["cells"] * len(quarters)
    return rows


def _cell_quarter():
    """A number naming one (cell, quarter) pair within a year, for COUNT(DISTINCT …)."""
    return ExpressionWrapper(F("organisation_id") * 10 + ExtractQuarter("period_month"), output_field=IntegerField())


def _meeting_counts(scope, period, length, today, source: str = "rollups") -> list[dict]:
    """The counts of the year's meetings per group: summed from the monthly rollups (``source="rollups"``,
    reports.rollups, one row per cell-month), or counted from the meetings (``"records"``); the same
    figures either way (tests/reports/test_rollups.py)."""
    if source == "rollups":
        return rollups.meeting_counts(scope, period, length, today)
    return _meeting_counts_from_records(scope, period, length, today)


def _meeting_counts_from_records(scope, period, length, today) -> list[dict]:
    """Per group, in one scan of the year's held meetings of the whole cell: the units of the ended
    months and quarters that met (regular meeting, thematic meeting, visit), those of the quarter in
    progress that already met, cells with a forum; and of the period's meetings with a base, those
    above the attendance target, the sum of their rates and the unexcused absences (from the counts
    stored on the meetings: no attendance row is read). Definitions: meetings.indicators."""
    first_month, last_month = _months_span(period.ended_months(today))
    ended_quarters = period.ended_quarters(today)
    first_quarter, last_quarter = _months_span(ended_quarters)
    last_quarter = dates.add_months(last_quarter, 2) if ended_quarters else NEVER
    current_quarter = period.current_quarter(today)
    now_first, now_last = (current_quarter, dates.add_months(current_quarter, 2)) if current_quarter else (NEVER, NEVER)
    # Attendance: the meetings of the period with someone expected, from their stored counts.
    counted = Q(period_month__gte=period.start, period_month__lte=period.end, attendance_base__gt=0)
    rate = rollups.attendance_rate()
    # An uncorrelated IN over the guests of the scope's meetings of the year, not a correlated
    # EXISTS: PostgreSQL prices an EXISTS inside an aggregate's FILTER once per row, and for a whole
    # Khối at 10× province that estimate crossed jit_above_cost (~100 ms of JIT compilation on every
    # request). Narrowed to the scope so that a small dashboard does not hash every guest row.
    guests = Meeting.upper_guests.through.objects.filter(
        meeting__organisation__path__startswith=scope.path,
        meeting__period_month__gte=period.year_start,
        meeting__period_month__lte=datetime.date(period.year, 12, 1),
    ).values("meeting_id")
    rows = list(
        _held(period.year_start, datetime.date(period.year, 12, 1), ATTENDANCE_KINDS)
        .filter(_of_cells_in(scope, period))
        .order_by()
        .values(grp=_group("organisation__path", length))
        .annotate(
            # At most one regular meeting per cell and month is not cancelled (a constraint): count rows.
            regular=Count("pk", filter=indicators.regular_held_q(first=first_month, last=last_month)),
            thematic=Count(
                _cell_quarter(),
                distinct=True,
                filter=indicators.thematic_held_q(first=first_quarter, last=last_quarter),
            ),
            thematic_now=Count(
                "organisation", distinct=True, filter=indicators.thematic_held_q(first=now_first, last=now_last)
            ),
            visits=Count(
                _cell_quarter(),
                distinct=True,
                filter=indicators.visits_q(first=first_quarter, last=last_quarter, guest_meetings=guests),
            ),
            visits_now=Count(
                "organisation",
                distinct=True,
                filter=indicators.visits_q(first=now_first, last=now_last, guest_meetings=guests),
            ),
            forum_cells=Count("organisation", distinct=True, filter=indicators.forum_held_q(year=period.year)),
            meetings=Count("pk", filter=counted),
            above=Count("pk", filter=counted & indicators.attendance_target_q(met=True)),
            rate_sum=Sum(rate, filter=counted),
            unexcused=Sum("attendance_unexcused", filter=counted),
        )
    )
    return [{**row, "rate_sum": float(row["rate_sum"] or 0), "unexcused": row["unexcused"] or 0} for row in rows]


def current_month_counts(
    *, scope: Organisation, period: Period, today: datetime.date, length: int | None
) -> dict[str, dict]:
    """The month in progress (when the period has one), per group: its regular meetings held, and
    planned in time so far (held included; meetings.indicators.regular_planned_in_time_q). One query;
    none when no month of the period is in progress."""
    month = period.current_month(today)
    if month is None:
        return {}
    rows = (
        indicators.regular_meetings_of(month)
        .filter(_of_cells_in(scope, period))
        .order_by()
        .values(grp=_group("organisation__path", length))
        .annotate(
            held=Count("pk", filter=indicators.held_q()),
            planned=Count("pk", filter=indicators.regular_planned_in_time_q(month, today=today)),
        )
    )
    return {row["grp"]: row for row in rows}


def _organisation_ratings(scope, period, length) -> list[dict]:
    ratings = AnnualRating.objects.filter(
        year=period.year, member__isnull=True, organisation__path__startswith=scope.path
    )
    tccs = Q(organisation__kind__in=Organisation.TCCS_KINDS)
    chi_bo = Q(organisation__kind=Organisation.Kind.CHI_BO)
    good = Q(decided_level__in=GOOD_LEVELS)
    excellent = Q(decided_level=RatingLevel.EXCELLENT)
    failed = Q(decided_level=RatingLevel.FAILED)
    decided = ~Q(decided_level="")
    return list(
        ratings.order_by()
        .values(grp=_group("organisation__path", length))
        .annotate(
            tccs_good=Count("pk", filter=tccs & good),
            tccs_excellent=Count("pk", filter=tccs & excellent),
            tccs_failed=Count("pk", filter=tccs & failed),
            tccs_decided=Count("pk", filter=tccs & decided),
            cell_good=Count("pk", filter=chi_bo & good),
            cell_excellent=Count("pk", filter=chi_bo & excellent),
            cell_failed=Count("pk", filter=chi_bo & failed),
            cell_decided=Count("pk", filter=chi_bo & decided),
        )
    )


def _member_ratings(scope, period, length) -> list[dict]:
    ratings = AnnualRating.objects.filter(
        year=period.year, member__isnull=False, organisation__path__startswith=scope.path
    )
    return list(
        ratings.order_by()
        .values(grp=_group("organisation__path", length))
        .annotate(
            rated=Count("pk"),
            member_decided=Count("pk", filter=~Q(decided_level="")),
            member_good=Count("pk", filter=Q(decided_level__in=GOOD_LEVELS)),
            member_excellent=Count("pk", filter=Q(decided_level=RatingLevel.EXCELLENT)),
        )
    )


def _documents(scope, period, length, today) -> list[dict]:
    """Per group and document type: the cells having it (one query)."""
    on = period.reference_day(today)
    return list(
        CellDocument.objects.filter(organisation__in=cells_in(scope, period), document_type__active=True)
        .filter(_document_condition(period.year, on))
        .order_by()
        .values("document_type", grp=_group("organisation__path", length))
        .annotate(cells=Count("organisation", distinct=True))
    )


def _commitments(scope, period, length, today) -> list[dict]:
    # A join on the year's commitment (at most one per member and year, a constraint), not a
    # correlated EXISTS, whose per-row price pushed the whole Khối's query over jit_above_cost (see
    # _meeting_counts); the planner hashes or probes the commitments as the scope's size asks.
    return list(
        members_in(scope, period, today)
        .alias(commitment=FilteredRelation("commitments", condition=Q(commitments__year=period.year)))
        .order_by()
        .values(grp=_group("organisation__path", length))
        # Counting a column of the unique index, the commitments are read from it alone.
        .annotate(members=Count("pk"), committed=Count("commitment__year"))
    )


def figures_by_group(
    *,
    scope: Organisation,
    period: Period,
    length: int | None,
    today: datetime.date | None = None,
    current: dict | None = None,
    source: str = "rollups",
) -> tuple[list[Target], dict[str, dict[str, Figure]]]:
    """Every target's figure per group of the scope (path prefix of ``length``; None: per organisation),
    as it stands on ``today``: units of periods in progress are pending, not failed.

    A fixed number of queries (seven, eight with a month in progress; seven with ``current``, the rows
    of ``current_month_counts``; one more per grouped query a registered target declares of its own,
    ``Target.count``), whatever the size of the subtree.
    """
    today = today or timezone.localdate()
    document_types = list(RequiredDocumentType.objects.filter(active=True).order_by("period", "order", "pk"))
    target_list = targets(document_types)
    raw: dict[str, dict[str, int]] = {}

    def add(grp, **values):
        bucket = raw.setdefault(grp, {})
        for key, value in values.items():
            bucket[key] = bucket.get(key, 0) + (value or 0)

    for row in _organisation_counts(scope, period, length, today):
        add(row.pop("grp"), **row)
    for row in _meeting_counts(scope, period, length, today, source):
        add(row.pop("grp"), **row)
    for row in _organisation_ratings(scope, period, length):
        add(row.pop("grp"), **row)
    for row in _member_ratings(scope, period, length):
        add(row.pop("grp"), **row)
    for row in _documents(scope, period, length, today):
        add(row["grp"], **{f"doc_{row['document_type']}": row["cells"]})
    for row in _commitments(scope, period, length, today):
        add(row.pop("grp"), **row)
    # The grouped queries targets declare of their own (reports.targets.Target.count), once each.
    for count in dict.fromkeys(target.count for target in target_list if target.count is not None):
        for row in count(scope=scope, period=period, length=length, today=today):
            add(row.pop("grp"), **row)
    month = period.current_month(today)
    if current is None:
        current = current_month_counts(scope=scope, period=period, today=today, length=length)
    quarter_open = period.current_quarter(today) is not None
    year_open = today <= period.year_end

    for grp, values in raw.items():
        # Before the upper committee has decided any rating of a group (every year until December), its
        # rating shares have nothing to judge: "—", not a 0 % that reads as "Chưa đạt".
        values["tccs_rated"] = values.get("tccs", 0) if values.get("tccs_decided") else 0
        values["chi_bo_rated"] = values.get("chi_bo", 0) if values.get("cell_decided") else 0
        values["members_rated"] = values.get("rated", 0) if values.get("member_decided") else 0
        cells = values.get("cells", 0)
        # The month in progress: held cells are met and due, cells past the planning deadline without a
        # plan are failed and due, the others are pending.
        if month is not None:
            row = current.get(grp, {})
            split = month_in_progress(
                month=month, today=today, cells=cells, held=row.get("held", 0), planned=row.get("planned", 0)
            )
            values["regular"] = values.get("regular", 0) + split["met"]
            values["cell_months"] = values.get("cell_months", 0) + split["met"] + split["failed"]
            values["regular_pending"] = split["pending"]
        # The quarter in progress: a cell that already met is met and due, the others are pending.
        if quarter_open:
            for key in ("thematic", "visits"):
                done = values.get(f"{key}_now", 0)
                values[key] = values.get(key, 0) + done
                values[f"{key}_due"] = values.get("cell_quarters", 0) + done
                values[f"{key}_pending"] = max(cells - done, 0)
        else:
            values["thematic_due"] = values["visits_due"] = values.get("cell_quarters", 0)
        # Forums: a year in progress owes one only once it has ended; a cell that held one has met it.
        values["forum_due"] = values.get("forum_cells", 0) if year_open else cells
        values["forum_pending"] = max(cells - values.get("forum_cells", 0), 0) if year_open else 0
    period_open = not period.ended(today)
    result: dict[str, dict[str, Figure]] = {}
    for grp, values in raw.items():
        result[grp] = {}
        for target in target_list:
            open_ = year_open if target.span == "year" else period_open
            pending = values.get(target.pending, 0) if target.pending else 0
            result[grp][target.code] = Figure(
                target, values.get(target.num, 0), values.get(target.den, 0), pending=pending, open=open_
            )
    return target_list, result


def total_of(
    target_list: list[Target],
    groups: dict[str, dict[str, Figure]],
    *,
    period: Period | None = None,
    today: datetime.date | None = None,
) -> dict[str, Figure]:
    """The scope's row: the sum of the group rows (all figures are sums of counts)."""
    total = {}
    for target in target_list:
        figures = [groups[g][target.code] for g in groups]
        num = sum(f.num for f in figures)
        den = sum(f.den for f in figures)
        pending = sum(f.pending for f in figures)
        if figures:
            open_ = figures[0].open
        elif period is not None and today is not None:
            open_ = (today <= period.year_end) if target.span == "year" else not period.ended(today)
        else:
            open_ = False
        total[target.code] = Figure(target, num, den, pending=pending, open=open_)
    return total


def applies(figure: Figure) -> bool:
    """Whether the figure is judged at all (a group without TCCS has no TCCS target)."""
    return figure.status != NO_DATA


def group_rows(scope: Organisation, *, period: Period, length: int | None, kinds=None) -> QuerySet[Organisation]:
    """The organisations the groups stand for: the scope's children, or the cells of its subtree."""
    organisations = Organisation.objects.filter(_active_in(period), path__startswith=scope.path)
    if length:
        organisations = organisations.filter(depth=scope.depth + 1).exclude(kind=Organisation.Kind.TO_DANG)
    if kinds:
        organisations = organisations.filter(kind__in=kinds)
    return organisations.select_related("parent").order_by("path")


def _empty(target: Target, period: Period, today: datetime.date) -> Figure:
    open_ = (today <= period.year_end) if target.span == "year" else not period.ended(today)
    return Figure(target, 0, 0, open=open_)


def dashboard(
    *,
    scope: Organisation,
    period: Period,
    today: datetime.date | None = None,
    current: dict | None = None,
    source: str = "rollups",
) -> dict:
    """The targets of the scope: its total, and one row per child organisation."""
    today = today or timezone.localdate()
    length = len(scope.path) + PATH_STEP_WIDTH
    target_list, groups = figures_by_group(
        scope=scope, period=period, length=length, today=today, current=current, source=source
    )
    children = list(group_rows(scope, period=period, length=length))
    total = total_of(target_list, groups, period=period, today=today)
    rows = []
    for child in children:
        figures = groups.get(child.path, {})
        rows.append(
            {"organisation": child, "figures": [figures.get(t.code) or _empty(t, period, today) for t in target_list]}
        )
    return {"targets": target_list, "total": [total[t.code] for t in target_list], "rows": rows}


def annual_levels(*, scope: Organisation, year: int, today: datetime.date | None = None) -> tuple[list, list[dict]]:
    """The annual report's levels: the scope, its children (the TCCS for the Khối), every cell."""
    today = today or timezone.localdate()
    period = Period(year)
    step = PATH_STEP_WIDTH
    target_list, children = figures_by_group(scope=scope, period=period, length=len(scope.path) + step, today=today)
    _cell_targets, cells = figures_by_group(scope=scope, period=period, length=None, today=today)
    total = total_of(target_list, children, period=period, today=today)
    levels = [{"name": scope.get_kind_display(), "rows": [(scope, [total[t.code] for t in target_list])]}]
    for name, length, groups, kinds in [
        (
            _("TCCS") if scope.kind == Organisation.Kind.KHOI else _("Trực thuộc"),
            len(scope.path) + step,
            children,
            None,
        ),
        (_("Chi bộ"), None, cells, Organisation.CELL_KINDS),
    ]:
        rows = []
        for organisation in group_rows(scope, period=period, length=length, kinds=kinds):
            figures = groups.get(organisation.path, {})
            rows.append((organisation, [figures.get(t.code) or _empty(t, period, today) for t in target_list]))
        levels.append({"name": name, "rows": rows})
    return target_list, levels
