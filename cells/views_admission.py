"""Party admission (issue #18, item 4): a cell's pipeline of candidates, a candidate's page with each step,
and the upper level's view by đảng bộ. The time limits and the step order: cells/admission.py."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from lib.forms import add_service_errors
from lib.views import form_cycle

from . import admission, selectors, services
from .forms import STEP_FORMS, CandidateDocumentForm, CandidateForm, CandidateWithdrawForm
from .permissions import can


def cell_pipeline(request, pk):
    """The cell's candidates, each with the step they are at and its due date (overdue in red)."""
    cell = selectors.admission_scope_or_404(request.user, pk, cell=True)
    today = timezone.localdate()
    rows = selectors.candidate_rows(
        cell.candidates.filter(withdrawn_on__isnull=True).order_by("proposed_on", "full_name", "pk")
    )
    withdrawn = cell.candidates.filter(withdrawn_on__isnull=False).order_by("-withdrawn_on", "full_name", "pk")
    return render(
        request,
        "cells/admission/cell_pipeline.html",
        {
            "cell": cell,
            "today": today,
            "rows": [(row, row.overdue(today), row.due_soon(today)) for row in rows],
            "withdrawn": withdrawn,
            "can_manage": can(request.user, "admission.manage", cell),
        },
    )


def unit_pipeline(request, pk):
    """The pipeline below a Khối or a đảng ủy cơ sở, by its sub-units: candidates at each step, overdue."""
    unit = selectors.admission_scope_or_404(request.user, pk)
    if unit.is_cell:
        raise Http404
    today = timezone.localdate()
    groups = selectors.admission_by_unit(unit=unit, today=today)
    steps = [(code, admission.STEP_LABELS[code]) for code in admission.STEPS[1:-1]]
    return render(
        request,
        "cells/admission/unit_pipeline.html",
        {
            "unit": unit,
            "today": today,
            "steps": steps,
            "groups": [
                {
                    **group,
                    "cells": [group["counts"][code] for code, _label in steps],
                    "pairs": [(label, group["counts"][code]) for code, label in steps],
                }
                for group in groups
            ],
            "totals": [sum(group["counts"][code] for group in groups) for code, _label in steps],
            "total": sum(group["total"] for group in groups),
            "overdue": sum(group["overdue"] for group in groups),
        },
    )


@require_http_methods(["GET", "POST"])
def candidate_create(request, pk):
    cell = selectors.admission_scope_or_404(request.user, pk, write=True, cell=True)
    form = CandidateForm(request.POST or None, cell=cell, initial={"proposed_on": timezone.localdate()})
    if request.method == "POST" and form.is_valid():
        try:
            candidate = services.candidate_create(organisation=cell, by=request.user, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Đã ghi quần chúng ưu tú được chi bộ giới thiệu."))
            return redirect("admission:candidate_detail", pk=candidate.pk)
    return render(
        request, "cells/admission/form.html", {"form": form, "cell": cell, "title": _("Giới thiệu quần chúng ưu tú")}
    )


def candidate_detail(request, pk):
    candidate = selectors.get_candidate_for_user_or_404(request.user, pk)
    today = timezone.localdate()
    row = selectors.candidate_rows(type(candidate).objects.filter(pk=candidate.pk))[0]
    can_manage = (
        can(request.user, "admission.manage", candidate.organisation)
        and not candidate.member_id
        and not candidate.withdrawn_on
    )
    ceremony_from, from_received = admission.ceremony_counts_from(candidate)
    return render(
        request,
        "cells/admission/candidate_detail.html",
        {
            "candidate": row.candidate,
            "row": row,
            "today": today,
            "steps": [
                {
                    "step": step,
                    "overdue": step.overdue(today),
                    "due_soon": step.due_soon(today),
                    "current": row.current is not None and step.code == row.current.code,
                    "recordable": can_manage and step.code in STEP_FORMS,
                    "late": step.done_on is not None and step.due is not None and step.done_on > step.due,
                }
                for step in row.steps
            ],
            "can_manage": can_manage,
            "documents": candidate.documents.select_related("uploaded_by").order_by("kind", "-created_at", "-pk"),
            "ceremony_from": ceremony_from,
            "ceremony_from_received": from_received,
            "rules": admission,
        },
    )


@require_http_methods(["GET", "POST"])
def candidate_update(request, pk):
    candidate = selectors.get_candidate_for_user_or_404(request.user, pk, write=True)
    initial = {key: getattr(candidate, key) for key in services.CANDIDATE_FIELDS}
    form = CandidateForm(request.POST or None, cell=candidate.organisation, initial=initial)
    return form_cycle(
        request,
        form,
        lambda data: services.candidate_update(candidate=candidate, by=request.user, **data),
        success=_("Đã lưu hồ sơ quần chúng."),
        redirect_to=reverse("admission:candidate_detail", args=[candidate.pk]),
        template="cells/admission/form.html",
        context={"cell": candidate.organisation, "candidate": candidate, "title": _("Sửa thông tin quần chúng")},
    )


@require_http_methods(["GET", "POST"])
def candidate_step(request, pk, step):
    """Record one step of the admission (the class, the documents, the proposal, the decision, the ceremony)."""
    if step not in STEP_FORMS:
        raise Http404
    candidate = selectors.get_candidate_for_user_or_404(request.user, pk, write=True)
    initial = {key: getattr(candidate, key) for key in services.STEP_FIELDS[step]}
    form = STEP_FORMS[step](request.POST or None, initial=initial)
    return form_cycle(
        request,
        form,
        lambda data: services.candidate_record_step(candidate=candidate, step=step, by=request.user, **data),
        success=_("Đã ghi bước “%(step)s”.") % {"step": admission.STEP_LABELS[step]},
        redirect_to=reverse("admission:candidate_detail", args=[candidate.pk]),
        template="cells/admission/form.html",
        context={"cell": candidate.organisation, "candidate": candidate, "title": admission.STEP_LABELS[step]},
    )


@require_http_methods(["GET", "POST"])
def candidate_withdraw(request, pk):
    """The cell stops considering a candidate (rút khỏi danh sách), with the day and a required reason."""
    candidate = selectors.get_candidate_for_user_or_404(request.user, pk, write=True)
    form = CandidateWithdrawForm(request.POST or None, initial={"withdrawn_on": timezone.localdate()})
    return form_cycle(
        request,
        form,
        lambda data: services.candidate_withdraw(candidate=candidate, by=request.user, **data),
        success=_("Đã dừng xem xét quần chúng %(name)s.") % {"name": candidate.full_name},
        redirect_to=reverse("admission:cell_pipeline", args=[candidate.organisation_id]),
        template="cells/admission/form.html",
        context={"cell": candidate.organisation, "candidate": candidate, "title": _("Dừng xem xét quần chúng")},
    )


@require_http_methods(["GET", "POST"])
def candidate_document_upload(request, pk):
    """Upload a scan of the class certificate or of a document of the candidate's file."""
    candidate = selectors.get_candidate_for_user_or_404(request.user, pk, write=True)
    form = CandidateDocumentForm(request.POST or None, request.FILES or None, initial={"kind": request.GET.get("loai")})
    return form_cycle(
        request,
        form,
        lambda data: services.candidate_document_add(candidate=candidate, by=request.user, **data),
        success=_("Đã tải lên giấy tờ của quần chúng."),
        redirect_to=reverse("admission:candidate_detail", args=[candidate.pk]) + "#giay-to",
        template="cells/admission/form.html",
        context={"cell": candidate.organisation, "candidate": candidate, "title": _("Tải lên giấy tờ của quần chúng")},
    )


def candidate_document_download(request, pk):
    """The scan, for those who may read the candidate; each download leaves an audit row."""
    document = selectors.get_candidate_document_for_user_or_404(request.user, pk)
    try:
        handle = document.file.open("rb")
    except FileNotFoundError:
        raise Http404 from None
    services.candidate_document_downloaded(document=document, by=request.user)
    return FileResponse(
        handle,
        as_attachment=True,
        filename=document.original_name or document.file.name,
        content_type=document.content_type or None,
    )
