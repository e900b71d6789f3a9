"""Pages of the questions asked between meetings (issue #17, item 4): the bí thư opens one and follows it;
each member answers from a personal link, without logging in (meetings.async_decisions)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from lib.forms import add_service_errors

from . import async_decisions, selectors
from .forms_async import AsyncAnswerForm, AsyncDecisionForm
from .models import AsyncDecision


def _decision_for_user_or_404(user, pk) -> AsyncDecision:
    """A decision of a cell the user sees (else 404), for those who run the cell's meetings (else 403)."""
    try:
        decision = AsyncDecision.objects.select_related("organisation").get(
            pk=pk, organisation__in=selectors.cells_visible_to(user)
        )
    except (AsyncDecision.DoesNotExist, ValueError, TypeError):
        raise Http404 from None
    if not selectors.can_write_cell(user, decision.organisation):
        raise PermissionDenied
    return decision


@require_http_methods(["GET", "HEAD"])
def decision_list(request, cell_pk):
    cell = selectors.get_cell_for_user_or_404(request.user, cell_pk, write=True)
    async_decisions.decisions_close_due(organisation=cell)
    return render(
        request,
        "meetings/async_list.html",
        {"cell": cell, "decisions": async_decisions.decisions_of(cell), "now": timezone.now()},
    )


@require_http_methods(["GET", "POST"])
def decision_create(request, cell_pk):
    cell = selectors.get_cell_for_user_or_404(request.user, cell_pk, write=True)
    form = AsyncDecisionForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            decision = async_decisions.decision_open(cell=cell, by=request.user, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Đã gửi xin ý kiến tới đảng viên của chi bộ."))
            return redirect("meetings:async_detail", pk=decision.pk)
    return render(request, "meetings/async_form.html", {"cell": cell, "form": form})


@require_http_methods(["GET", "HEAD"])
def decision_detail(request, pk):
    decision = async_decisions.decision_close_if_due(_decision_for_user_or_404(request.user, pk))
    return render(
        request,
        "meetings/async_detail.html",
        {
            "decision": decision,
            "cell": decision.organisation,
            "counts": async_decisions.answered_counts(decision),
            "comments": async_decisions.comments_of(decision),
            "result": async_decisions.result_text(decision),
            "documents": decision.documents.all(),
            "reported_at": async_decisions.reporting_meeting(decision),
        },
    )


@require_http_methods(["GET", "HEAD"])
def decision_document(request, pk, document_pk):
    decision = _decision_for_user_or_404(request.user, pk)
    document = get_object_or_404(decision.documents, pk=document_pk)
    return FileResponse(document.file.open("rb"), as_attachment=True, filename=document.download_name)


def _answer_context(decision, ballot, token, form):
    return {
        "decision": decision,
        "ballot": ballot,
        "token": token,
        "form": form,
        "open": decision.state == AsyncDecision.State.OPEN and timezone.now() < decision.deadline,
        "documents": decision.documents.all(),
        "result": async_decisions.result_text(decision),
    }


@login_not_required
@require_http_methods(["GET", "POST"])
def answer(request, token):
    """The member's page from the link: the question, the documents, their own answer (never another's)."""
    try:
        decision, ballot = async_decisions.read_token(token)
    except ValidationError as error:
        return render(request, "meetings/async_answer.html", {"error": " ".join(error.messages)}, status=400)
    decision = async_decisions.decision_close_if_due(decision)
    initial = {"choice": ballot.choice, "comment": ballot.comment}
    form = AsyncAnswerForm(request.POST or None, initial=initial, voter=ballot.voter)
    if request.method == "POST" and form.is_valid():
        try:
            async_decisions.ballot_answer(
                token=token, choice=form.cleaned_data.get("choice") or "", comment=form.cleaned_data["comment"]
            )
        except ValidationError as error:
            add_service_errors(form, error)
            decision.refresh_from_db()
        else:
            messages.success(request, _("Đã ghi nhận ý kiến của đồng chí. Đồng chí có thể sửa đến hết hạn trả lời."))
            return redirect("meetings:async_answer", token=token)
    return render(request, "meetings/async_answer.html", _answer_context(decision, ballot, token, form))


@login_not_required
@require_http_methods(["GET", "HEAD"])
def answer_document(request, token, document_pk):
    try:
        decision, _ballot = async_decisions.read_token(token)
    except ValidationError:
        raise Http404 from None
    document = get_object_or_404(decision.documents, pk=document_pk)
    return FileResponse(document.file.open("rb"), as_attachment=True, filename=document.download_name)
