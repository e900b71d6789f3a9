"""Who may see the dashboards and run the reports: the scope of a dashboard, a report run."""

from django.core.exceptions import PermissionDenied
from django.db.models import (
    QuerySet,
)
from django.http import Http404

from cells.models import (
    Organisation,
)
from cells.permissions import can, roles_with
from cells.selectors import (
    get_organisation_for_user_or_404,
    role_assignments_of,
)

from .models import ReportRun

# Who sees the dashboards: the Khối and the grassroots committees, not the cells.
DASHBOARD_ROLES = roles_with("dashboards.see")  # the permission table, cells/permissions.py
# Who may start the annual report.
REPORT_ROLES = roles_with("reports.run")
SCOPE_KINDS = (Organisation.Kind.KHOI, Organisation.Kind.DANG_BO_CO_SO, Organisation.Kind.DANG_BO_BO_PHAN)


def can_see_dashboards(user) -> bool:
    return can(user, "dashboards.see")


def dashboard_home_for(user) -> Organisation | None:
    """The widest organisation the user watches: the Khối for its staff, the TCCS for its officers."""
    if user.is_authenticated and user.is_superuser:
        return Organisation.objects.filter(kind=Organisation.Kind.KHOI).order_by("path").first()
    for assignment in role_assignments_of(user):  # ordered by path: the widest first
        if assignment.role in DASHBOARD_ROLES and assignment.organisation.kind in SCOPE_KINDS:
            return assignment.organisation
    return None


def get_scope_for_user_or_404(user, pk) -> Organisation:
    """The organisation of a dashboard: 403 without a dashboard role, 404 outside the user's subtrees."""
    if not can_see_dashboards(user):
        raise PermissionDenied
    scope = get_organisation_for_user_or_404(user, pk, roles=DASHBOARD_ROLES)
    if scope.kind not in SCOPE_KINDS:
        raise Http404
    return scope


def can_run_reports(user, scope: Organisation) -> bool:
    return can(user, "reports.run", scope)


def get_part_of_scope_or_404(scope: Organisation, pk) -> Organisation:
    """An organisation inside the scope's subtree (for drill-down filters)."""
    try:
        return Organisation.objects.get(pk=int(pk), path__startswith=scope.path)
    except (Organisation.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


# --- report runs ---------------------------------------------------------------------------------


def report_runs_visible_to(user, *, scope: Organisation, kind: str | None = None) -> QuerySet[ReportRun]:
    runs = ReportRun.objects.filter(organisation=scope)
    if kind is not None:
        runs = runs.filter(kind=kind)
    return runs.select_related("created_by").order_by("-created_at", "-pk")


def get_report_run_for_user_or_404(user, pk) -> ReportRun:
    try:
        run = ReportRun.objects.select_related("organisation").get(pk=pk)
    except (ReportRun.DoesNotExist, ValueError, TypeError):
        raise Http404 from None
    get_scope_for_user_or_404(user, run.organisation_id)
    return run
