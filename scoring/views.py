"""Views of the scoring app: parse, call one service, set a message, redirect."""

import datetime

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from cells.permissions import require
from cells.selectors import READ_MEMBERS, organisations_visible_to
from lib import query
from lib.dates import quarter_bounds, quarter_of
from lib.forms import add_service_errors
from lib.paging import page_of
from lib.views import form_cycle
from meetings.selectors import can_write_cell, cells_visible_to, meetings_visible_to

from . import documents, selectors, services
from .forms import (
    FollowUpForm,
    InspectionForm,
    RatingDecideForm,
    RatingProposeForm,
    RatingSelfForm,
    ScoreSheetForm,
)
from .models import LEVEL_SHORT, AnnualRating, MeetingScore


def _form_page(request, form, action, *, success, redirect_to, title, back=None, extra=None):
    """The shared GET/POST cycle (lib.views.form_cycle) on the scoring form template."""
    return form_cycle(
        request,
        form,
        action,
        success=success,
        redirect_to=redirect_to,
        template="scoring/form.html",
        context={"title": title, "back": back, **(extra or {})},
    )


# --- meeting scores ---------------------------------------------------------------------------

SCORES_PER_PAGE = 100


def index(request):
    cells = cells_visible_to(request.user)
    if not cells.exists():
        raise PermissionDenied
    scores = (
        MeetingScore.objects.filter(meeting__in=meetings_visible_to(request.user))
        .select_related("meeting", "meeting__organisation", "meeting__organisation__parent")
        .order_by("-meeting__period_month", "pk")
    )
    page = page_of(request, scores, SCORES_PER_PAGE)
    return render(
        request,
        "scoring/index.html",
        {
            "scores": page.object_list,
            "page": page,
            "cells": cells.order_by("path"),
            "year": timezone.localdate().year,
            "can_read_tree": organisations_visible_to(request.user, roles=READ_MEMBERS).exists(),
            "my_ratings": selectors.ratings_of_user(request.user),
        },
    )


def meeting_score(request, pk):
    meeting = selectors.get_scored_meeting_or_404(request.user, pk)
    score = selectors.score_of(meeting)
    context = selectors.score_sheet_context(score) if score else {"meeting": meeting}
    return render(
        request,
        "scoring/meeting_score.html",
        {
            **context,
            "score": score,
            "meeting": meeting,
            "can_write": can_write_cell(request.user, meeting.organisation),
            "can_confirm": selectors.can_confirm(request.user, meeting.organisation),
            "scorable": meeting.kind in selectors.SCORED_KINDS and meeting.state in selectors.HELD_STATES,
            "scheme": score.scheme
            if score
            else selectors.scheme_for(organisation=meeting.organisation, day=selectors.meeting_day(meeting)),
        },
    )


@require_POST
def meeting_score_prefill(request, pk):
    meeting = selectors.get_scored_meeting_or_404(request.user, pk, write=True)
    try:
        services.meeting_score_prefill(meeting=meeting, by=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("Đã đề xuất điểm từ hồ sơ buổi sinh hoạt."))
    return redirect("scoring:meeting_score", pk=pk)


def _score_or_redirect(request, meeting):
    score = selectors.score_of(meeting)
    if score is None:
        messages.error(request, _("Chưa có đề xuất điểm cho buổi sinh hoạt này."))
    return score


def _sheet_with_fields(score, form) -> dict:
    """The score sheet context with each criterion's form field placed on its row."""
    context = selectors.score_sheet_context(score)
    names = {line.pk: name for line, name in form.lines}
    for item in context["groups"]:
        for row in item["rows"]:
            if row["line"] is not None and row["line"].pk in names:
                row["field"] = form[names[row["line"].pk]]
    return context


@require_http_methods(["GET", "POST"])
def meeting_score_self(request, pk):
    meeting = selectors.get_scored_meeting_or_404(request.user, pk, write=True)
    score = _score_or_redirect(request, meeting)
    if score is None or score.state != MeetingScore.State.DRAFT:
        return redirect("scoring:meeting_score", pk=pk)
    form = ScoreSheetForm(request.POST or None, score=score, with_weaknesses=True)
    if request.method == "POST" and form.is_valid():
        try:
            services.meeting_score_self_save(
                score=score, points=form.points(), weaknesses=form.cleaned_data.get("weaknesses", ""), by=request.user
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Đã lưu điểm chi bộ tự chấm."))
            return redirect("scoring:meeting_score", pk=pk)
    return render(
        request,
        "scoring/score_form.html",
        {**_sheet_with_fields(score, form), "form": form, "title": _("Chi bộ tự chấm điểm")},
    )


@require_POST
def meeting_score_adopt(request, pk):
    meeting = selectors.get_scored_meeting_or_404(request.user, pk, write=True)
    score = _score_or_redirect(request, meeting)
    if score is not None:
        try:
            services.meeting_score_self_adopt(score=score, by=request.user)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, _("Chi bộ đã thông qua điểm tự chấm."))
    return redirect("scoring:meeting_score", pk=pk)


@require_http_methods(["GET", "POST"])
def meeting_score_confirm(request, pk):
    meeting = selectors.get_scored_meeting_or_404(request.user, pk, confirm=True)
    score = _score_or_redirect(request, meeting)
    if score is None or score.state != MeetingScore.State.SELF_ADOPTED:
        if score is not None:
            messages.error(
                request,
                _("Chi bộ chưa thông qua điểm tự chấm.")
                if score.state == MeetingScore.State.DRAFT
                else services.already_confirmed_message(score),
            )
        return redirect("scoring:meeting_score", pk=pk)
    form = ScoreSheetForm(request.POST or None, score=score, initial_attr="official_points", with_reason=True)
    if request.method == "POST" and form.is_valid():
        try:
            services.meeting_score_confirm(
                score=score, points=form.points(), reason=form.cleaned_data.get("reason", ""), by=request.user
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Đã xác nhận kết quả xếp loại buổi sinh hoạt."))
            return redirect("scoring:meeting_score", pk=pk)
    return render(
        request,
        "scoring/score_form.html",
        {**_sheet_with_fields(score, form), "form": form, "title": _("Cấp trên xác nhận điểm")},
    )


def score_sheet_pdf(request, pk):
    meeting = selectors.get_scored_meeting_or_404(request.user, pk)
    score = selectors.score_of(meeting)
    if score is None:
        raise Http404
    response = HttpResponse(documents.score_sheet_pdf(score), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="phieu-diem-{meeting.pk}.pdf"'
    return response


# --- yearly rating ---------------------------------------------------------------------------


def cell_ratings(request, cell_pk, year):
    cell = selectors.get_rating_cell_or_404(request.user, cell_pk)
    regime = selectors.regime_for(year)
    ratings = selectors.ratings_of_cell(cell=cell, year=year)
    tccs = selectors.tccs_of(cell)
    return render(
        request,
        "scoring/rating_list.html",
        {
            "cell": cell,
            "year": year,
            "regime": regime,
            "ratings": ratings,
            "levels": LEVEL_SHORT,
            "not_rated": selectors.not_rated_members(cell=cell, year=year, regime=regime) if regime else [],
            "quota_warnings": selectors.quota_check(tccs=tccs, year=year, regime=regime) if regime else [],
            "can_write": can_write_cell(request.user, cell),
        },
    )


@require_POST
def ratings_open(request, cell_pk, year):
    cell = selectors.get_rating_cell_or_404(request.user, cell_pk, write=True)
    try:
        rows = services.annual_rating_open(cell=cell, year=year, by=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(
            request, _("Đã mở đánh giá, xếp loại năm %(year)s: %(count)s phiếu.") % {"year": year, "count": len(rows)}
        )
    return redirect("scoring:cell_ratings", cell_pk=cell.pk, year=year)


def _rating(request, pk, *, step: str | None = None) -> AnnualRating:
    rating = selectors.get_rating_for_user_or_404(request.user, pk)
    allowed = {
        None: True,
        "self": (rating.member_id and rating.member.user_id == request.user.pk)
        or can_write_cell(request.user, rating.organisation),
        "propose": can_write_cell(request.user, rating.organisation)
        if rating.member_id
        else selectors.can_confirm(request.user, rating.organisation),
        "decide": selectors.can_confirm(request.user, rating.organisation),
    }[step]
    if not allowed:
        raise PermissionDenied
    return rating


def rating_detail(request, pk):
    rating = _rating(request, pk)
    return render(
        request,
        "scoring/rating_detail.html",
        {
            "rating": rating,
            "levels": LEVEL_SHORT,
            "cell_problems": (
                selectors.cell_excellence_problems(cell=rating.organisation, year=rating.year, regime=rating.regime)
                if not rating.member_id
                else []
            ),
            "can_self": _allowed(request, rating, "self"),
            "can_propose": _allowed(request, rating, "propose"),
            "can_decide": _allowed(request, rating, "decide"),
        },
    )


def _allowed(request, rating, step) -> bool:
    try:
        _rating(request, rating.pk, step=step)
    except PermissionDenied:
        return False
    return True


def _back(rating):
    return reverse("scoring:rating_detail", args=[rating.pk])


@require_http_methods(["GET", "POST"])
def rating_self(request, pk):
    rating = _rating(request, pk, step="self")
    form = RatingSelfForm(
        request.POST or None,
        initial={"level": rating.self_level, "score": rating.self_score, "comment": rating.self_comment},
    )
    return _form_page(
        request,
        form,
        lambda data: services.annual_rating_self_assess(
            rating=rating, level=data["level"], comment=data["comment"], score=data["score"], by=request.user
        ),
        success=_("Đã ghi tự đánh giá."),
        redirect_to=_back(rating),
        back=_back(rating),
        title=_("Tự đánh giá, xếp loại — %(name)s") % {"name": rating.subject_name},
    )


@require_http_methods(["GET", "POST"])
def rating_propose(request, pk):
    rating = _rating(request, pk, step="propose")
    form = RatingProposeForm(
        request.POST or None,
        initial={"level": rating.proposed_level or rating.self_level, "note": rating.proposal_note},
    )
    return _form_page(
        request,
        form,
        lambda data: services.annual_rating_propose(
            rating=rating, level=data["level"], note=data["note"], by=request.user
        ),
        success=_("Đã ghi đề xuất xếp loại."),
        redirect_to=_back(rating),
        back=_back(rating),
        title=_("Đề xuất xếp loại — %(name)s") % {"name": rating.subject_name},
    )


@require_http_methods(["GET", "POST"])
def rating_decide(request, pk):
    rating = _rating(request, pk, step="decide")
    form = RatingDecideForm(request.POST or None, initial={"level": rating.decided_level or rating.proposed_level})
    level = request.POST.get("level") or rating.proposed_level
    warnings = services.annual_rating_warnings(rating=rating, level=level) if level else []
    return _form_page(
        request,
        form,
        lambda data: services.annual_rating_decide(
            rating=rating,
            level=data["level"],
            note=data["note"],
            acknowledge_warnings=data["acknowledge_warnings"],
            by=request.user,
        ),
        success=_("Đã quyết định xếp loại."),
        redirect_to=_back(rating),
        back=_back(rating),
        title=(
            _("Sửa quyết định xếp loại — %(name)s")
            if rating.state == AnnualRating.State.DECIDED
            else _("Quyết định xếp loại — %(name)s")
        )
        % {"name": rating.subject_name},
        extra={"warnings": warnings, "amending": rating.state == AnnualRating.State.DECIDED},
    )


# --- supervision -----------------------------------------------------------------------------


def _quarter(request) -> tuple[datetime.date, datetime.date, int, int]:
    year, quarter = query.year_and_quarter(request.GET, today=timezone.localdate())
    start, end = quarter_bounds(quarter_of(year, quarter))
    return start, end, year, quarter


def supervision(request):
    if not organisations_visible_to(request.user, roles=READ_MEMBERS).exists():
        raise PermissionDenied
    start, end, year, quarter = _quarter(request)
    page = page_of(request, selectors.cells_without_upper_visit(user=request.user, start=start, end=end))
    return render(
        request,
        "scoring/supervision.html",
        {
            "cells": page.object_list,
            "page": page,
            "start": start,
            "end": end,
            "year": year,
            "quarter": quarter,
            "quarters": [1, 2, 3, 4],
            "today": timezone.localdate(),
        },
    )


def inspection_list(request):
    visible = organisations_visible_to(request.user, roles=READ_MEMBERS)
    if not visible.exists():
        raise PermissionDenied
    page = page_of(request, selectors.inspections_visible_to(request.user).order_by("-inspected_on", "pk"))
    cells = [
        cell
        for cell in visible.filter(kind__in=("chi_bo", "chi_bo_co_so")).order_by("path")
        if selectors.can_inspect(request.user, cell)
    ]
    return render(
        request,
        "scoring/inspection_list.html",
        {"inspections": page.object_list, "page": page, "cells": cells, "today": timezone.localdate()},
    )


@require_http_methods(["GET", "POST"])
def inspection_create(request, cell_pk):
    cell = selectors.get_rating_cell_or_404(request.user, cell_pk)
    require(request.user, "inspections.make", cell)
    form = InspectionForm(request.POST or None)
    return _form_page(
        request,
        form,
        lambda data: services.inspection_create(organisation=cell, by=request.user, **data),
        success=_("Đã ghi kết quả kiểm tra."),
        redirect_to=reverse("scoring:inspections"),
        back=reverse("scoring:inspections"),
        title=_("Kiểm tra sổ sách, biên bản — %(cell)s") % {"cell": cell.name},
    )


@require_http_methods(["GET", "POST"])
def inspection_follow_up(request, pk):
    inspection = selectors.get_inspection_for_user_or_404(request.user, pk, write=True)
    form = FollowUpForm(request.POST or None)
    return _form_page(
        request,
        form,
        lambda data: services.inspection_follow_up_done(
            inspection=inspection, done_on=data["done_on"], result=data["result"], by=request.user
        ),
        success=_("Đã ghi nhận kết quả khắc phục."),
        redirect_to=reverse("scoring:inspections"),
        back=reverse("scoring:inspections"),
        title=_("Khắc phục sau kiểm tra — %(cell)s") % {"cell": inspection.organisation.name},
    )
