"""Views of the reports app: the dashboards, their drill-down lists and exports, the annual report runs."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from cells.permissions import require
from lib import xlsx
from lib.paging import page_of, query_without_page
from lib.replica import replica_view

from . import access, drilldown, exports, kinds, services
from .dashboard import dashboard_head, dashboard_page, dashboard_parts, dashboard_tables
from .forms import PeriodForm
from .models import ReportRun


def _xlsx(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type=xlsx.CONTENT_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def index(request):
    require(request.user, "dashboards.see")
    scope = access.dashboard_home_for(request.user)
    if scope is None:
        raise Http404
    return redirect("reports:dashboard", pk=scope.pk)


@replica_view  # its reads (and its XLSX) from the read replica when there is one
def dashboard(request, pk):
    scope = access.get_scope_for_user_or_404(request.user, pk)
    form = PeriodForm.from_query(request.GET)
    period = form.period()
    if request.GET.get("format") == "xlsx":
        context = dashboard_page(user=request.user, scope=scope, period=period)
        return _xlsx(exports.tables_xlsx(dashboard_tables(context)), f"bang-theo-doi-{scope.pk}.xlsx")
    today = timezone.localdate()
    head = dashboard_head(user=request.user, scope=scope, period=period, today=today)
    parts = dashboard_parts(scope=scope, period=period, today=today)
    return render(request, "reports/dashboard.html", {**head, "parts": parts, "form": form})


@replica_view
def drill(request, pk, metric):
    scope = access.get_scope_for_user_or_404(request.user, pk)
    period = PeriodForm.from_query(request.GET).period()
    part = access.get_part_of_scope_or_404(scope, request.GET["org"]) if request.GET.get("org") else None
    params = {key: request.GET.get(key, "") for key in ("kind", "level", "type", "in_month")}
    params["month"] = params.pop("in_month")
    records = drilldown.drill_records(metric, scope=scope, period=period, part=part, params=params)
    title = drilldown.drill_title(metric, params, period=period)
    if request.GET.get("format") == "xlsx":
        table = drilldown.drill_table(metric, records, title=title)
        return _xlsx(exports.tables_xlsx([table]), f"{metric}-{scope.pk}.xlsx")
    page = page_of(request, records)
    return render(
        request,
        "reports/drill.html",
        {
            "scope": scope,
            "part": part,
            "period": period,
            "title": title,
            "page": page,
            "query": query_without_page(request),
            "table": drilldown.drill_table(metric, page.object_list, title=title),
        },
    )


def report_runs(request, pk, kind=kinds.ANNUAL_TARGETS):
    scope = access.get_scope_for_user_or_404(request.user, pk)
    report = kinds.kind_of(kind)
    can_run = access.can_run_reports(request.user, scope)
    form = report.form(request.POST or None)
    if request.method == "POST":
        if not can_run:
            raise PermissionDenied
        if form.is_valid():
            services.report_run_create(
                organisation=scope, kind=report.code, params=report.params(form.cleaned_data), by=request.user
            )
            messages.success(request, _("Đã đưa báo cáo vào hàng đợi; trang sẽ tự cập nhật khi có kết quả."))
            return redirect(_runs_url(scope, report))
    page = page_of(request, access.report_runs_visible_to(request.user, scope=scope, kind=report.code))
    return render(
        request,
        "reports/runs.html",
        {"scope": scope, "form": form, "runs": page.object_list, "page": page, "can_run": can_run, "report": report},
    )


def _runs_url(scope, report) -> str:
    if report.code == kinds.ANNUAL_TARGETS:
        return reverse("reports:runs", args=[scope.pk])
    return reverse("reports:runs_of_kind", args=[scope.pk, report.code])


def report_run_status(request, run_pk):
    run = access.get_report_run_for_user_or_404(request.user, run_pk)
    return render(
        request,
        "reports/_run_row.html",
        {"run": run, "can_run": access.can_run_reports(request.user, run.organisation)},
    )


@require_POST
def report_run_restart(request, run_pk):
    run = access.get_report_run_for_user_or_404(request.user, run_pk)
    require(request.user, "reports.run", run.organisation)
    try:
        queued = services.report_run_restart(run=run, by=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        if queued:
            messages.success(request, _("Đã đưa báo cáo vào hàng đợi để lập lại."))
        else:
            messages.warning(
                request,
                _(
                    "Chưa đưa được báo cáo vào hàng đợi: máy chủ hàng đợi không trả lời. Yêu cầu "
                    "đã được ghi lại; hệ thống sẽ tự đưa vào hàng đợi khi máy chủ hoạt động lại "
                    "(trong khoảng 10 phút)."
                ),
            )
    return redirect(_runs_url(run.organisation, kinds.kind_of(run.kind)))


def report_run_download(request, run_pk, file_kind):
    run = access.get_report_run_for_user_or_404(request.user, run_pk)
    field = getattr(run, file_kind) if file_kind in kinds.FILE_KINDS else None
    if field is None or not field or run.status != ReportRun.Status.DONE:
        raise Http404
    filename = kinds.kind_of(run.kind).download_name(run, file_kind)
    return FileResponse(field.open("rb"), as_attachment=True, filename=filename)
