import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.contrib.staticfiles import finders
from django.contrib.staticfiles.storage import staticfiles_storage
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from lib.forms import add_service_errors
from lib.paging import page_of, query_without_page

from . import member_excel, privacy, selectors, services
from .forms import (
    AttachmentForm,
    ExemptionForm,
    MemberCreateForm,
    MemberFilterForm,
    MemberForm,
    MemberImportForm,
    RoleGrantForm,
    TransferForm,
)
from .models import Organisation, Role
from .permissions import can, can_under, require
from .views_privacy import member_detail_context


def home(request):
    """Send each user to the page their role starts from."""
    if can(request.user, "dashboards.see"):
        return redirect("reports:index")  # the Khối and đảng ủy cơ sở start on their dashboard
    if can(request.user, "members.read"):
        # A secretary or clerk of one cell starts on that cell's page, others on the tree.
        # A secretary of one cell starts on what the cell must do this month; a clerk on the cell's page.
        visible = list(selectors.organisations_visible_to(request.user).values_list("pk", "kind")[:2])
        if len(visible) == 1 and visible[0][1] in Organisation.CELL_KINDS:
            if Role.CELL_SECRETARY in selectors.roles_of(request.user):
                return redirect("meetings:cell_home", cell_pk=visible[0][0])
            return redirect("cells:organisation_detail", pk=visible[0][0])
        return redirect("cells:organisation_tree")
    member = getattr(request.user, "member", None)
    if member is not None:
        return redirect("meetings:my_home")
    return render(request, "cells/no_role.html")


# The tree in path order, a page at a time: the Khối's whole tree is several hundred rows.
TREE_PAGE_SIZE = 100


def organisation_tree(request):
    organisations = selectors.organisation_tree(user=request.user)
    page = page_of(request, organisations, TREE_PAGE_SIZE)
    if not page.paginator.count:
        raise PermissionDenied
    return render(request, "cells/organisation_list.html", {"organisations": page.object_list, "page": page})


def organisation_detail(request, pk):
    organisation = selectors.get_organisation_for_user_or_404(request.user, pk)
    context = {
        "organisation": organisation,
        "can_manage": bool(selectors.roles_over(request.user, organisation) & selectors.MANAGE_MEMBERS),
        "can_grant": bool(selectors.roles_grantable(request.user, organisation)),
        # The tree's pages (cells/views_tree.py), by the permission table.
        "can_manage_tree": can(request.user, "tree.manage", organisation),
        "can_add_unit": not organisation.is_cell
        and organisation.kind != Organisation.Kind.TO_DANG
        and can_under(request.user, "tree.manage", organisation),
        "can_assign_positions": organisation.is_cell and can(request.user, "positions.assign", organisation),
        # The upper level's visit plan (meetings.views_visits), for a unit above cells.
        # The admission pipeline (cells/views_admission.py): the cell's, or by sub-unit above cells.
        "can_see_admission": organisation.kind != Organisation.Kind.TO_DANG
        and can(request.user, "admission.read", organisation),
        "can_see_visits": not organisation.is_cell
        and organisation.kind != Organisation.Kind.TO_DANG
        and can(request.user, "visits.see", organisation),
        # The materials the Khối or a đảng ủy cơ sở sends its cells (meetings.views_materials, issue #17).
        "can_follow_materials": organisation.kind in (Organisation.Kind.KHOI, Organisation.Kind.DANG_BO_CO_SO)
        and can(request.user, "materials.track", organisation),
    }
    if organisation.is_cell:
        context.update(
            summary=selectors.cell_summary(cell=organisation),
            positions=selectors.current_positions(organisation=organisation),
            members=selectors.member_list(user=request.user, cell_id=organisation.pk),
            probation_due=selectors.probation_reviews_due(
                organisations=Organisation.objects.filter(pk=organisation.pk)
            ),
        )
    else:
        context["children"] = selectors.organisation_tree(user=request.user).filter(parent=organisation)
    return render(request, "cells/organisation_detail.html", context)


@require_http_methods(["GET", "POST"])
def organisation_roles(request, pk):
    """Who holds which role on an organisation; its managers grant roles here (with an audit row)."""
    organisation = selectors.get_organisation_for_user_or_404(request.user, pk, write=True)
    grantable = selectors.roles_grantable(request.user, organisation)
    form = RoleGrantForm(request.POST or None, roles=grantable)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.role_assign(
                user=data["account"], organisation=organisation, role=data["role"], start=data["start"], by=request.user
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Đã cấp quyền cho tài khoản %(name)s.") % {"name": data["account"].username})
            return redirect("cells:organisation_roles", pk=organisation.pk)
    return render(
        request,
        "cells/organisation_roles.html",
        {
            "organisation": organisation,
            "form": form,
            "grantable": grantable,
            "assignments": selectors.role_assignments_on(organisation=organisation),
        },
    )


@require_POST
def role_end(request, pk):
    """End a role from today (its last day is yesterday); one that had not started yet is cancelled."""
    assignment = selectors.get_role_assignment_for_user_or_404(request.user, pk, write=True)
    services.role_end(assignment=assignment, on=timezone.localdate() - datetime.timedelta(days=1), by=request.user)
    messages.success(
        request,
        _("Đã chấm dứt vai trò %(role)s của tài khoản %(name)s.")
        % {"role": assignment.get_role_display(), "name": assignment.user.username},
    )
    return redirect("cells:organisation_roles", pk=assignment.organisation_id)


def _filtered_members(request):
    """The filter form of the member list and the members it selects (list page and Excel export)."""
    require(request.user, "members.read")
    form = MemberFilterForm(request.GET or None, user=request.user)
    filters = form.cleaned_data if form.is_valid() else {}
    members = selectors.member_list(
        user=request.user,
        search=filters.get("q", ""),
        tccs_id=filters.get("tccs"),
        cell_id=filters.get("cell"),
        status=filters.get("status", ""),
        exempt=filters.get("exempt", ""),
    )
    return form, members


def member_list(request):
    form, members = _filtered_members(request)
    return render(
        request,
        "cells/member_list.html",
        {
            "form": form,
            "page": page_of(request, members),
            "query": query_without_page(request),
            "can_manage": selectors.can_manage_members_somewhere(request.user),
        },
    )


def member_detail(request, pk):
    member = selectors.get_member_for_user_or_404(request.user, pk)
    return render(request, "cells/member_detail.html", member_detail_context(request, member))


@require_http_methods(["GET", "POST"])
def member_create(request):
    require(request.user, "members.manage")
    initial = {"organisation": request.GET.get("cell")}
    form = MemberCreateForm(request.POST or None, user=request.user, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        organisation, joined_on = data.pop("organisation"), data.pop("joined_on")
        try:
            member = services.member_create(organisation=organisation, joined_on=joined_on, by=request.user, **data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Đã thêm đảng viên %(name)s.") % {"name": member.full_name})
            return redirect("cells:member_detail", pk=member.pk)
    return render(request, "cells/member_form.html", {"form": form, "title": _("Thêm đảng viên")})


@require_http_methods(["GET", "POST"])
def member_update(request, pk):
    member = selectors.get_member_for_user_or_404(request.user, pk, write=True)
    if request.method == "GET" and any(getattr(member, field) for field in privacy.PERSONAL_FIELDS):
        # The edit form holds the citizen ID and phone in full: opening it is a reveal, with its audit row.
        services.member_personal_reveal(member=member, fields=privacy.PERSONAL_FIELDS, by=request.user, purpose="edit")
    form = MemberForm(request.POST or None, instance=member, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            services.member_update(member=member, by=request.user, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Đã lưu thông tin đảng viên."))
            return redirect("cells:member_detail", pk=member.pk)
    return render(
        request, "cells/member_form.html", {"form": form, "member": member, "title": _("Sửa thông tin đảng viên")}
    )


@require_http_methods(["GET", "POST"])
def member_transfer(request, pk):
    member = selectors.get_member_for_user_or_404(request.user, pk, write=True)
    form = TransferForm(request.POST or None, user=request.user, member=member)
    if request.method == "POST" and form.is_valid():
        try:
            services.member_transfer(member=member, by=request.user, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Đã chuyển sinh hoạt đảng viên %(name)s.") % {"name": member.full_name})
            still_visible = selectors.members_visible_to(request.user).filter(pk=member.pk).exists()
            return redirect(
                reverse("cells:member_detail", args=[member.pk]) if still_visible else reverse("cells:member_list")
            )
    return render(
        request, "cells/member_form.html", {"form": form, "member": member, "title": _("Chuyển sinh hoạt đảng")}
    )


def _member_record(request, pk, *, form_class, service, done: str, title: str):
    """The form cycle of a dated record on a member (exemption, temporary attachment): the service's
    refusals next to their fields, nothing written; done, back to the member's page."""
    member = selectors.get_member_for_user_or_404(request.user, pk, write=True)
    form = form_class(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            service(member=member, by=request.user, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, done)
            return redirect("cells:member_detail", pk=member.pk)
    return render(request, "cells/member_form.html", {"form": form, "member": member, "title": title})


@require_http_methods(["GET", "POST"])
def member_exempt(request, pk):
    return _member_record(
        request,
        pk,
        form_class=ExemptionForm,
        service=services.member_exempt,
        done=_("Đã ghi nhận miễn sinh hoạt."),
        title=_("Miễn công tác và sinh hoạt đảng"),
    )


@require_http_methods(["GET", "POST"])
def member_attach(request, pk):
    return _member_record(
        request,
        pk,
        form_class=AttachmentForm,
        service=services.member_attach,
        done=_("Đã ghi nhận sinh hoạt tạm thời nơi khác."),
        title=_("Sinh hoạt đảng tạm thời nơi khác"),
    )


# --- member list as Excel ----------------------------------------------------------------


def member_export(request):
    """The member list, with the list page's filters, as an .xlsx ("Sổ danh sách đảng viên")."""
    form, members = _filtered_members(request)
    members = list(members)
    content, unmasked = member_excel.member_export_workbook(members=members, user=request.user)
    filters = {
        key: str(value)
        for key, value in (form.cleaned_data if form.is_bound and form.is_valid() else {}).items()
        if value not in (None, "")
    }
    services.personal_export_log(
        by=request.user,
        document="member_list.xlsx",
        rows=len(members),
        full_values=unmasked,
        params=filters,
        organisation=selectors.export_scope(request.user, filters.get("cell")),
    )
    response = HttpResponse(content, content_type=member_excel.XLSX_CONTENT_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{member_excel.export_filename()}"'
    response["Cache-Control"] = "no-store"
    return response


def _import_cell(request):
    """The list's cell chosen on upload, carried through the mapping step and the confirmation."""
    value = request.POST.get("cell", "")
    if not value.isdigit():
        return None
    return selectors.cells_for_member_forms(request.user).filter(pk=int(value)).first()


def _import_sheet(request, *, take: bool):
    """The stashed upload read with the mapping the user chose in the preview (``col-<index>`` fields)."""
    token = request.POST.get("token", "")
    cell = _import_cell(request)
    owner = member_excel.mapping_owner(user=request.user, cell=cell)
    mapping = member_excel.mapping_for(organisation=owner)
    first = member_excel.import_stash_read(session=request.session, token=token, mapping=mapping)
    if first is None:
        return None, None, cell, owner
    choices = {
        column.index: request.POST[f"col-{column.index}"]
        for column in first.columns
        if f"col-{column.index}" in request.POST
    }
    mapping = {**mapping, **member_excel.mapping_from_choices(sheet=first, choices=choices)}
    read = member_excel.import_stash_take if take else member_excel.import_stash_read
    return read(session=request.session, token=token, mapping=mapping), mapping, cell, owner


def _import_page(request, *, form, sheet, cell, token=None):
    preview = member_excel.member_import_preview(sheet=sheet, user=request.user, default_cell=cell)
    return render(
        request,
        "cells/member_import.html",
        {
            "form": form,
            "preview": preview,
            "token": token,
            "cell": cell,
            "choices": member_excel.column_choices(),
        },
    )


@require_http_methods(["GET", "POST"])
def member_import(request):
    """Upload a member list and preview it; nothing is written until the user confirms a clean file."""
    require(request.user, "members.manage")
    form = MemberImportForm(request.POST or None, request.FILES or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        token = member_excel.import_stash_save(session=request.session, file=form.cleaned_data["file"])
        return _import_page(request, form=form, sheet=form.sheet, cell=form.cleaned_data["cell"], token=token)
    return render(request, "cells/member_import.html", {"form": form})


@require_POST
def member_import_columns(request):
    """The preview's mapping step: read the stashed file again with the columns the user mapped."""
    require(request.user, "members.manage")
    sheet, _mapping, cell, _owner = _import_sheet(request, take=False)
    if sheet is None:
        messages.error(request, _("Không tìm thấy tệp đã kiểm tra; hãy tải tệp lên lại."))
        return redirect("cells:member_import")
    return _import_page(
        request, form=MemberImportForm(user=request.user), sheet=sheet, cell=cell, token=request.POST.get("token", "")
    )


@require_POST
def member_import_confirm(request):
    """Validate the previewed file again and write all its changes in one transaction, or none."""
    require(request.user, "members.manage")
    sheet, mapping, cell, owner = _import_sheet(request, take=True)
    if sheet is None:
        messages.error(request, _("Không tìm thấy tệp đã kiểm tra; hãy tải tệp lên lại."))
        return redirect("cells:member_import")
    preview = member_excel.member_import_preview(sheet=sheet, user=request.user, default_cell=cell)
    try:
        if preview.problems:
            raise ValidationError(preview.problems)
        result = member_excel.member_import_commit(
            rows=preview.rows, by=request.user, sheet=sheet, mapping=mapping, mapping_organisation=owner
        )
    except ValidationError as error:
        messages.error(request, _("Chưa nhập đảng viên nào: %(reason)s") % {"reason": " ".join(error.messages)})
        return render(
            request,
            "cells/member_import.html",
            {"form": MemberImportForm(user=request.user), "preview": preview, "choices": member_excel.column_choices()},
        )
    messages.success(
        request,
        _(
            "Đã nhập %(created)d đảng viên mới, cập nhật %(updated)d, %(unchanged)d không đổi; "
            "tạo %(positions)d chức vụ đảng."
        )
        % {
            "created": len(result.created),
            "updated": len(result.updated),
            "unchanged": result.unchanged,
            "positions": len(result.positions),
        },
    )
    return redirect("cells:member_list")


_FAVICON: bytes | None = None


@login_not_required
@require_safe
@cache_control(public=True, max_age=7 * 24 * 3600)
def favicon(request):
    """/favicon.ico, for what asks the site's root for it (the admin's pages, PDFs opened in a tab,
    bookmarks); the portal's pages link the hashed static copy (base.html)."""
    global _FAVICON
    if _FAVICON is None:
        found = finders.find("favicon.ico")  # the source under static/
        if found:
            with open(found, "rb") as icon:
                _FAVICON = icon.read()
        else:  # only the collected copy is deployed
            with staticfiles_storage.open("favicon.ico") as icon:
                _FAVICON = icon.read()
    return HttpResponse(_FAVICON, content_type="image/x-icon")
