"""What the reports count: which meetings (one home, meetings.indicators) and the base querysets
of a scope and period (its cells, its held meetings, its members) shared by figures, warnings and drill-downs.
"""

import datetime

from django.db.models import (
    Count,
    F,
    FloatField,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
)
from django.db.models.functions import Cast, Coalesce, NullIf, Substr
from django.utils.translation import gettext_lazy

from cells.models import (
    Member,
    Organisation,
    RequiredDocumentType,
)
from cells.selectors import (
    exempt_member_ids,
)
from meetings import indicators
from meetings.models import Meeting
from scoring.models import RatingLevel

from .periods import Period

# Which meetings count, and the thresholds: one home, meetings.indicators (issue #13).
HELD_STATES = indicators.HELD_STATES
THEMATIC_KINDS = indicators.THEMATIC_KINDS
ATTENDANCE_KINDS = indicators.CELL_MEETING_KINDS
SCORED_KINDS = indicators.SCORED_KINDS
ATTENDANCE_TARGET = indicators.ATTENDANCE_TARGET
GOOD_LEVELS = (RatingLevel.EXCELLENT, RatingLevel.GOOD)
# Meeting-quality levels of the shipped schemes, best first; other codes are shown as they are.
QUALITY_LEVELS = [
    ("tot", gettext_lazy("Tốt")),
    ("kha", gettext_lazy("Khá")),
    ("trung_binh", gettext_lazy("Trung bình")),
    ("kem", gettext_lazy("Kém")),
]
UNSCORED = "chua_xac_nhan"
# The meeting-quality levels the Khối's heat map counts as good.
GOOD_MEETING_LEVELS = ("tot", "kha")


def _group(path_field: str, length: int | None):
    return Substr(path_field, 1, length) if length else F(path_field)


def _active_in(period: Period, prefix: str = "") -> Q:
    return indicators.active_between(period.start, period.end, prefix)


def cells_in(scope: Organisation, period: Period) -> QuerySet[Organisation]:
    return indicators.cells_active(start=period.start, end=period.end, within=scope)


def _of_cells_in(scope: Organisation, period: Period) -> Q:
    """Rows of the cells of ``cells_in``, filtered through the same join that groups them by path."""
    return _active_in(period, "organisation__") & Q(
        organisation__path__startswith=scope.path, organisation__kind__in=Organisation.CELL_KINDS
    )


def _count_per_cell(meetings: QuerySet, counted) -> Coalesce:
    """A correlated subquery: ``counted`` (distinct) over ``meetings`` of the outer cell."""
    per_cell = (
        meetings.filter(organisation=OuterRef("pk"))
        .order_by()
        .values("organisation")
        .annotate(n=Count(counted, distinct=True))
        .values("n")
    )
    return Coalesce(Subquery(per_cell, output_field=IntegerField()), 0)


def _held(period_start: datetime.date, period_end: datetime.date, kinds) -> QuerySet[Meeting]:
    return Meeting.objects.filter(
        kind__in=kinds, state__in=HELD_STATES, period_month__gte=period_start, period_month__lte=period_end
    )


def _document_condition(year: int, on: datetime.date) -> Q:
    in_year = Q(document_type__period=RequiredDocumentType.Period.YEAR, year=year)
    in_term = Q(document_type__period=RequiredDocumentType.Period.TERM, term__start__lte=on) & (
        Q(term__end__isnull=True) | Q(term__end__gte=on)
    )
    return in_year | in_term


def members_in(scope: Organisation, period: Period, today: datetime.date) -> QuerySet[Member]:
    """Active members of the subtree who are not exempt on the reference day (the commitment base)."""
    return Member.objects.filter(state=Member.State.ACTIVE, organisation__path__startswith=scope.path).exclude(
        pk__in=exempt_member_ids(on=period.reference_day(today))
    )


def _attendance_held(scope: Organisation, period: Period) -> QuerySet[Meeting]:
    return _held(period.start, period.end, ATTENDANCE_KINDS).filter(_of_cells_in(scope, period))


def attendance_meetings(scope: Organisation, period: Period) -> QuerySet[Meeting]:
    """Held meetings of the whole cell in the period, each with ``present``, ``base``, ``unexcused``, ``rate``.

    The counts are the ones stored on the meeting (``meetings.services.attendance_counts_refresh``
    keeps them with the attendance rows): no attendance row is read. Late counts as present.
    """
    return (
        _attendance_held(scope, period)
        .annotate(present=F("attendance_present"), base=F("attendance_base"), unexcused=F("attendance_unexcused"))
        .annotate(rate=Cast(F("present"), FloatField()) * 100 / NullIf(Cast(F("base"), FloatField()), 0.0))
    )
