"""The Ban Tổ chức's pages for the party tree: add a unit under another, change a unit's record, move it
under another parent, and record a cell's positions (bí thư, phó bí thư, chi ủy viên…).

Every write goes through ``cells.services.tree`` (one transaction, an audit row, the paths recomputed);
a refusal shows next to its field and nothing is written. Who may is the permission table's
"tree.manage" and "positions.assign" (cells/permissions.py): the upper level over the unit.
"""

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from lib.formatting import date_text
from lib.views import form_cycle

from . import selectors, services
from .forms import OrganisationForm, OrganisationMoveForm, PositionAssignForm, PositionEndForm, committee_choice
from .models import Organisation
from .permissions import can_under, require

TEMPLATE = "cells/organisation_form.html"


def _page(request, form, action, *, organisation, title, success, intro="", **context):
    """The form cycle on the unit's form page; done, back to the unit's page."""
    return form_cycle(
        request,
        form,
        action,
        success=success,
        redirect_to=reverse("cells:organisation_detail", args=[organisation.pk]),
        template=TEMPLATE,
        context={"organisation": organisation, "title": title, "intro": intro, **context},
    )


@require_http_methods(["GET", "POST"])
def organisation_create(request, pk):
    """ "Thêm đơn vị trực thuộc": a new unit under this one, with its path and an audit row."""
    parent = selectors.get_organisation_for_user_or_404(request.user, pk)
    if not can_under(request.user, "tree.manage", parent):
        raise PermissionDenied
    form = OrganisationForm(request.POST or None, parent=parent)
    return _page(
        request,
        form,
        lambda data: services.organisation_create(parent=parent, by=request.user, **data),
        organisation=parent,
        title=_("Thêm đơn vị trực thuộc"),
        success=_("Đã thêm đơn vị trực thuộc %(parent)s.") % {"parent": parent.name},
    )


@require_http_methods(["GET", "POST"])
def organisation_update(request, pk):
    """ "Sửa thông tin": the unit's record; its kind stays, its place changes by a move."""
    organisation = selectors.get_organisation_for_user_or_404(request.user, pk)
    require(request.user, "tree.manage", organisation)
    initial = {name: getattr(organisation, name) for name in services.ORGANISATION_FIELDS}
    initial["committee_override"] = committee_choice(organisation.committee_override)
    form = OrganisationForm(request.POST or None, initial=initial, organisation=organisation)
    return _page(
        request,
        form,
        lambda data: services.organisation_update(organisation=organisation, by=request.user, **data),
        organisation=organisation,
        title=_("Sửa thông tin đơn vị"),
        success=_("Đã lưu thông tin %(name)s.") % {"name": organisation.name},
    )


@require_http_methods(["GET", "POST"])
def organisation_move(request, pk):
    """ "Chuyển đơn vị": under another parent the user may place units under (merges, splits)."""
    organisation = selectors.get_organisation_for_user_or_404(request.user, pk)
    require(request.user, "tree.manage", organisation)
    form = OrganisationMoveForm(
        request.POST or None, organisation=organisation, parents=selectors.organisations_to_place_under(request.user)
    )
    intro = _("Hiện trực thuộc: %(parent)s.") % {"parent": organisation.parent.name if organisation.parent else "—"}
    if not form.fields["parent"].queryset.exists():
        intro += " " + _(
            "Trong phạm vi đồng chí phụ trách không có tổ chức nào khác nhận được đơn vị này; chuyển sang "
            "đảng bộ khác do Ban Tổ chức Đảng ủy Khối thực hiện."
        )
    return _page(
        request,
        form,
        lambda data: services.organisation_move(organisation=organisation, new_parent=data["parent"], by=request.user),
        organisation=organisation,
        title=_("Chuyển đơn vị"),
        success=_("Đã chuyển %(name)s.") % {"name": organisation.name},
        intro=intro,
    )


def _cell_for_positions(request, pk) -> Organisation:
    cell = selectors.get_organisation_for_user_or_404(request.user, pk)
    if not cell.is_cell:
        raise Http404
    require(request.user, "positions.assign", cell)
    return cell


@require_http_methods(["GET", "POST"])
def position_assign(request, pk):
    """ "Phân công chức vụ": a member of the cell takes a post (a new bí thư replaces the previous one)."""
    cell = _cell_for_positions(request, pk)
    form = PositionAssignForm(request.POST or None, cell=cell)
    return _page(
        request,
        form,
        lambda data: services.position_assign(organisation=cell, by=request.user, **data),
        organisation=cell,
        title=_("Phân công chức vụ"),
        success=_("Đã ghi nhận chức vụ."),
        intro=_(
            "Ghi nhận chức vụ theo kết quả bầu cử của chi bộ đã được cấp ủy cấp trên chuẩn y, hoặc quyết định "
            "chỉ định của cấp ủy cấp trên. Chức vụ không cấp quyền trên cổng: quyền cấp ở trang Phân quyền."
        ),
        positions=selectors.current_positions(organisation=cell),
    )


@require_http_methods(["GET", "POST"])
def position_end(request, pk):
    """ "Kết thúc chức vụ": the last day the member holds the post."""
    position = selectors.get_position_for_user_or_404(request.user, pk, write=True)
    form = PositionEndForm(request.POST or None, position=position)
    return _page(
        request,
        form,
        lambda data: services.position_end(position=position, on=data["on"], by=request.user),
        organisation=position.organisation,
        title=_("Kết thúc chức vụ"),
        success=_("Đã kết thúc chức vụ %(kind)s của đồng chí %(name)s.")
        % {"kind": position.get_kind_display(), "name": position.member.full_name},
        intro=_("%(kind)s: đồng chí %(name)s, từ %(start)s.")
        % {
            "kind": position.get_kind_display(),
            "name": position.member.full_name,
            "start": date_text(position.start),
        },
    )
