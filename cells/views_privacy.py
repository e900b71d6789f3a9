"""Personal data pages (Luật Bảo vệ dữ liệu cá nhân 91/2025/QH15; the rule is in cells/privacy.py):
"Hiện" on a member's page, the member's own data and correction requests, the officer's decisions."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from lib.forms import add_service_errors

from . import privacy, selectors, services, training
from .forms import CorrectionDecisionForm, CorrectionRequestForm
from .permissions import require


def member_detail_context(request, member, *, revealed=None) -> dict:
    """What the member page shows; personal values masked unless just ``revealed`` (with their audit row)."""
    return {
        "member": member,
        "memberships": selectors.membership_history(member=member),
        "positions": member.positions.select_related("organisation").order_by("-start"),
        "exemptions": member.exemptions.order_by("-start"),
        "attachments": member.attachments.order_by("-start"),
        "suspensions": member.suspensions.order_by("-start"),
        "can_manage": selectors.can_manage_member(request.user, member),
        **training_context(request, member),
        "personal": [
            {
                "field": field,
                "label": privacy.field_label(field),
                "masked": privacy.mask(field, getattr(member, field)),
                "value": (revealed or {}).get(field),
            }
            for field in privacy.PERSONAL_FIELDS
        ],
        "can_reveal": privacy.can_see_personal(request.user, member),
    }


def training_context(request, member) -> dict:
    """The member's training record (issue #18, item 5): the courses attended, and each officer post held
    today with the deadline of its course (cells/training.py)."""
    record = list(selectors.training_record(member=member))
    visible = set(
        selectors.courses_visible_to(request.user)
        .filter(pk__in=[a.course_id for a in record])
        .values_list("pk", flat=True)
    )
    return {
        "training_record": [(a, a.course_id in visible) for a in record],
        "training_posts": training.posts_of(member=member, on=timezone.localdate()),
    }


@require_POST
def member_reveal(request, pk, field):
    """ "Hiện": the audit row first (who, whose field, when), then the page with that value shown."""
    member = selectors.get_member_for_user_or_404(request.user, pk)
    if field not in privacy.PERSONAL_FIELDS:
        raise Http404
    revealed = services.member_personal_reveal(member=member, fields=[field], by=request.user)
    return render(request, "cells/member_detail.html", member_detail_context(request, member, revealed=revealed))


@require_http_methods(["GET", "POST"])
def my_personal_data(request):
    """ "Dữ liệu cá nhân của tôi": what the portal holds about the signed-in member, and their corrections."""
    member = getattr(request.user, "member", None)
    if member is None:
        raise PermissionDenied
    form = CorrectionRequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.correction_request(member=member, by=request.user, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Đã gửi đề nghị sửa; cán bộ tổ chức sẽ xem xét và báo lại cho đồng chí."))
            return redirect("cells:my_personal_data")
    return render(
        request,
        "cells/my_personal_data.html",
        {
            "member": member,
            "form": form,
            "memberships": selectors.membership_history(member=member),
            "positions": member.positions.select_related("organisation").order_by("-start"),
            "exemptions": member.exemptions.order_by("-start"),
            "corrections": [(c, privacy.field_label(c.field)) for c in selectors.corrections_of(member=member)],
            "roles": selectors.role_assignments_of(request.user),
        },
    )


def correction_list(request):
    """The open correction requests of the members the officer manages."""
    require(request.user, "members.manage")
    corrections = selectors.corrections_to_decide(request.user)
    rows = [
        {
            "correction": c,
            "label": privacy.field_label(c.field),
            "current": privacy.mask(c.field, getattr(c.member, c.field))
            if c.field in privacy.PERSONAL_FIELDS
            else privacy.display_value(c.field, getattr(c.member, c.field)),
            "new": privacy.mask(c.field, c.new_value) if c.field in privacy.PERSONAL_FIELDS else c.new_value,
        }
        for c in corrections[:200]
    ]
    return render(request, "cells/correction_list.html", {"rows": rows, "form": CorrectionDecisionForm()})


@require_POST
def correction_decide(request, pk):
    correction = selectors.get_correction_for_user_or_404(request.user, pk, write=True)
    form = CorrectionDecisionForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Chọn “Chấp nhận” hoặc “Không chấp nhận”."))
        return redirect("cells:correction_list")
    approve = form.cleaned_data["decision"] == "approve"
    try:
        services.correction_decide(
            correction=correction, approve=approve, note=form.cleaned_data["note"], by=request.user
        )
    except ValidationError as error:
        messages.error(
            request,
            _("Chưa xử lý đề nghị của đồng chí %(name)s: %(reason)s")
            % {"name": correction.member.full_name, "reason": " ".join(error.messages)},
        )
    else:
        messages.success(
            request,
            (
                _("Đã chấp nhận và cập nhật dữ liệu của đồng chí %(name)s.")
                if approve
                else _("Đã trả lời không chấp nhận đề nghị của đồng chí %(name)s.")
            )
            % {"name": correction.member.full_name},
        )
    return redirect("cells:correction_list")
