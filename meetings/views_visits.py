"""The upper level's visit plan (issue #18, item 3): the plan of a đảng ủy for a quarter, the assignment
form, the visitor's own schedule with its one-tap confirmation, and the observation card."""

from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from cells.permissions import can
from lib import query
from lib.dates import quarter_end, quarter_number, quarter_of
from lib.formatting import date_text
from lib.views import form_cycle

from . import indicators, selectors, services
from .forms import VisitAssignForm, VisitConfirmForm, VisitObservationForm
from .models import Meeting, VisitAssignment


def _period(request) -> indicators.Period:
    year, quarter = query.year_and_quarter(request.GET, today=timezone.localdate())
    return indicators.Period(year, quarter)


def _query(period: indicators.Period) -> str:
    return urlencode(period.query())


def _plan_url(upper, period: indicators.Period) -> str:
    return reverse("meetings:visit_plan", args=[upper.pk]) + "?" + _query(period)


@require_GET
def visit_plan(request, pk):
    """Every cell under the unit with its visitors, its meetings of the quarter and its state."""
    upper = selectors.get_visit_upper_for_user_or_404(request.user, pk)
    period = _period(request)
    today = timezone.localdate()
    previous = indicators.Period(*(period.year, period.quarter - 1) if period.quarter > 1 else (period.year - 1, 4))
    following = indicators.Period(*(period.year, period.quarter + 1) if period.quarter < 4 else (period.year + 1, 1))
    return render(
        request,
        "meetings/visit_plan.html",
        {
            "upper": upper,
            "period": period,
            "previous": previous,
            "following": following,
            "ended": period.ended(today),
            "days_left": (period.end - today).days + 1 if period.in_progress(today) else None,
            "can_plan": can(request.user, "visits.plan", upper) and not period.ended(today),
            "assign_url": reverse("meetings:visit_assign", args=[upper.pk]) + "?" + _query(period),
            **selectors.visit_plan(upper=upper, quarter=period.start),
        },
    )


@require_http_methods(["GET", "POST"])
def visit_assign(request, pk):
    upper = selectors.get_visit_upper_for_user_or_404(request.user, pk, plan=True)
    period = _period(request)
    quarter = quarter_of(period.year, period.quarter or 1)
    cells = indicators.cells_active(start=quarter, end=quarter_end(quarter), within=upper).exclude(pk=upper.pk)
    committee = selectors.upper_committee_members(upper=upper, start=quarter, end=quarter_end(quarter))
    initial = {"cell": request.GET.get("chi_bo") or None}
    form = VisitAssignForm(request.POST or None, initial=initial, cells=cells, committee=committee)
    return form_cycle(
        request,
        form,
        lambda data: services.visit_assign(
            upper=upper, cell=data["cell"], quarter=quarter, visitor=data["visitor"], by=request.user
        ),
        success=_("Đã phân công dự sinh hoạt."),
        redirect_to=_plan_url(upper, period),
        template="meetings/form.html",
        context={
            "title": _("Phân công dự sinh hoạt chi bộ — %(period)s") % {"period": period.label},
            "intro": upper.name,
        },
    )


@require_POST
def visit_unassign(request, pk, assignment):
    """Withdraw one assignment of the unit's plan (not one the visitor has confirmed)."""
    upper = selectors.get_visit_upper_for_user_or_404(request.user, pk, plan=True)
    row = get_object_or_404(
        VisitAssignment.objects.select_related("cell", "visitor", "meeting"), pk=assignment, upper=upper
    )
    period = indicators.Period(row.quarter.year, quarter_number(row.quarter))
    try:
        services.visit_unassign(assignment=row, by=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(
            request,
            _("Đã hủy phân công đồng chí %(name)s dự sinh hoạt %(cell)s.")
            % {"name": row.visitor.full_name, "cell": row.cell.name},
        )
    return redirect(_plan_url(upper, period))


def _visitor(request):
    member = getattr(request.user, "member", None)
    if member is None:
        raise PermissionDenied
    return member


def _my_visits_page(request, member, *, errors=None, status=200):
    return render(
        request,
        "meetings/my_visits.html",
        {"member": member, "visits": selectors.visits_of_member(member=member), "errors": errors or {}},
        status=status,
    )


@require_GET
def my_visits(request):
    """ "Lịch dự sinh hoạt của tôi": the member's assignments with the cells' meeting dates."""
    return _my_visits_page(request, _visitor(request))


@require_POST
def visit_confirm(request, pk):
    """One tap: "I attend this meeting". An error is shown next to that assignment's meetings."""
    assignment = selectors.get_visit_for_visitor_or_404(request.user, pk)
    form = VisitConfirmForm(request.POST)
    if not form.is_valid():
        return _my_visits_page(request, assignment.visitor, errors={assignment.pk: form.errors["meeting"]})
    meeting: Meeting = form.cleaned_data["meeting"]
    try:
        services.visit_confirm(assignment=assignment, meeting=meeting, by=request.user)
    except ValidationError as error:
        return _my_visits_page(request, assignment.visitor, errors={assignment.pk: error.messages})
    messages.success(
        request,
        _("Đã xác nhận dự buổi sinh hoạt ngày %(day)s của %(cell)s.")
        % {"day": date_text(timezone.localdate(meeting.planned_start)), "cell": assignment.cell.name},
    )
    return redirect("meetings:my_visits")


@require_http_methods(["GET", "POST"])
def visit_observe(request, pk):
    """The observation card, after the meeting is held (the service refuses it before)."""
    assignment = selectors.get_visit_for_visitor_or_404(request.user, pk)
    current = getattr(assignment, "observation", None)  # RelatedObjectDoesNotExist is an AttributeError
    form = VisitObservationForm(request.POST or None, instance=current)
    return form_cycle(
        request,
        form,
        lambda data: services.visit_observe(assignment=assignment, by=request.user, **data),
        success=_("Đã lưu phiếu nhận xét."),
        redirect_to=reverse("meetings:my_visits"),
        template="meetings/form.html",
        context={
            "title": _("Phiếu nhận xét dự sinh hoạt — %(cell)s") % {"cell": assignment.cell.name},
            "intro": _visit_intro(assignment),
        },
    )


def _visit_intro(assignment) -> str:
    meeting = assignment.meeting
    if meeting is None:
        return _("Đồng chí chưa xác nhận buổi sinh hoạt dự.")
    return _("Buổi sinh hoạt ngày %(day)s (%(state)s).") % {
        "day": date_text(timezone.localdate(meeting.actual_start or meeting.planned_start)),
        "state": meeting.get_state_display().lower(),
    }
