"""The yearly plan of thematic meetings and forums (issue #18, items 1 and 2): the cell's plan page and
its forms, the bank of suggested topics of the Khối and the đảng ủy cơ sở, and the upper level's table of
plan against held by cell."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from cells.permissions import can, roles_with
from cells.selectors import get_organisation_for_user_or_404
from lib.views import form_cycle

from . import calendar, selectors, services
from .forms import PlannedTopicForm, SuggestedTopicForm
from .models import PlannedTopic, SuggestedTopic, TopicKind


def _year_or_404(year: int) -> int:
    if not calendar.FIRST_YEAR <= year <= calendar.LAST_YEAR:
        raise Http404
    return year


def _plan_url(cell_pk: int, year: int) -> str:
    return reverse("meetings:plan", args=[cell_pk, year])


@require_GET
def plan(request, cell_pk, year):
    cell = selectors.get_cell_for_user_or_404(request.user, cell_pk)
    year = _year_or_404(year)
    return render(
        request,
        "meetings/plan.html",
        {
            "cell": cell,
            "plan": selectors.thematic_plan(cell=cell, year=year, today=timezone.localdate()),
            "can_write": selectors.can_write_cell(request.user, cell),
            "bank": selectors.suggested_topics_for(cell=cell, year=year),
            "previous_year": year - 1,
            "next_year": year + 1,
        },
    )


@require_http_methods(["GET", "POST"])
def plan_topic_add(request, cell_pk, year):
    """``?loai=forum`` plans a forum; otherwise a quarter's thematic meeting (``?quy=`` preselects it)."""
    cell = selectors.get_cell_for_user_or_404(request.user, cell_pk, write=True)
    year = _year_or_404(year)
    kind = TopicKind.FORUM if request.GET.get("loai") == "forum" else TopicKind.THEMATIC
    initial = {"quarter": request.GET.get("quy"), "suggested": request.GET.get("goi-y")}
    form = PlannedTopicForm(request.POST or None, initial=initial, cell=cell, year=year, kind=kind)
    title = _("Thêm chủ đề diễn đàn năm %(year)s") if kind == TopicKind.FORUM else _("Thêm chuyên đề năm %(year)s")
    return form_cycle(
        request,
        form,
        lambda data: services.planned_topic_create(cell=cell, year=year, kind=kind, by=request.user, **data),
        success=_("Đã thêm vào kế hoạch."),
        redirect_to=_plan_url(cell.pk, year),
        template="meetings/form.html",
        context={"title": title % {"year": year}, "cell": cell},
    )


def _topic_for_user_or_404(user, pk) -> PlannedTopic:
    topic = get_object_or_404(PlannedTopic.objects.select_related("organisation"), pk=pk)
    selectors.get_cell_for_user_or_404(user, topic.organisation_id, write=True)
    return topic


@require_http_methods(["GET", "POST"])
def plan_topic_edit(request, pk):
    topic = _topic_for_user_or_404(request.user, pk)
    initial = {
        "quarter": topic.quarter,
        "suggested": topic.suggested_id,
        "title": topic.title,
        "drafter": topic.drafter_id,
        "draft_due": topic.draft_due,
        "meeting": topic.meeting_id,
    }
    form = PlannedTopicForm(
        request.POST or None, initial=initial, cell=topic.organisation, year=topic.year, kind=topic.kind
    )
    return form_cycle(
        request,
        form,
        lambda data: services.planned_topic_update(topic=topic, by=request.user, **data),
        success=_("Đã cập nhật kế hoạch."),
        redirect_to=_plan_url(topic.organisation_id, topic.year),
        template="meetings/form.html",
        context={"title": _("Sửa chuyên đề: %(title)s") % {"title": topic.title}, "cell": topic.organisation},
    )


@require_POST
def plan_topic_approve(request, pk):
    """Record the chi ủy's approval of a plan row."""
    topic = _topic_for_user_or_404(request.user, pk)
    services.planned_topic_approve(topic=topic, by=request.user)
    messages.success(request, _("Đã ghi nhận chi ủy duyệt chuyên đề."))
    return redirect(_plan_url(topic.organisation_id, topic.year))


# --- the upper levels ---------------------------------------------------------------------------

_UPPER_ROLES = roles_with("dashboards.see")


def _upper_organisation_or_404(user, pk):
    """A Khối or đảng ủy cơ sở the user watches (404 outside the user's subtrees or on a cell)."""
    organisation = get_organisation_for_user_or_404(user, pk, roles=_UPPER_ROLES)
    if organisation.is_cell:
        raise Http404
    return organisation


@require_GET
def plan_table(request, pk, year):
    """Plan against held by cell and quarter, and the forums, for the year."""
    scope = _upper_organisation_or_404(request.user, pk)
    year = _year_or_404(year)
    return render(
        request,
        "meetings/plan_table.html",
        {
            "scope": scope,
            "year": year,
            "table": selectors.plan_table(scope=scope, year=year, today=timezone.localdate()),
            "can_publish": can(request.user, "plans.publish", scope),
            "previous_year": year - 1,
            "next_year": year + 1,
        },
    )


@require_http_methods(["GET", "POST"])
def plan_bank(request, pk, year):
    """The topics the unit suggests to its cells for the year, and the form that publishes one more."""
    publisher = _upper_organisation_or_404(request.user, pk)
    if not can(request.user, "plans.publish", publisher):
        raise PermissionDenied
    year = _year_or_404(year)
    form = SuggestedTopicForm(request.POST or None)
    return form_cycle(
        request,
        form,
        lambda data: services.suggested_topic_create(publisher=publisher, year=year, by=request.user, **data),
        success=_("Đã công bố chuyên đề gợi ý."),
        redirect_to=reverse("meetings:plan_bank", args=[publisher.pk, year]),
        template="meetings/plan_bank.html",
        context={
            "scope": publisher,
            "year": year,
            "topics": SuggestedTopic.objects.filter(publisher=publisher, year=year),
        },
    )
