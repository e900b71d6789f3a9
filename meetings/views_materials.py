"""The upper level's materials (issue #17 item 5): the publisher's list of a month and its publishing form,
the page that shows which cells attached a material and who read it, the file itself for its readers, and
the cell's one-click attach from its meeting page."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import FileResponse, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from cells.permissions import can
from lib import query
from lib.dates import add_months, month_end
from lib.views import form_cycle

from . import documents, indicators, selectors, services
from .forms import MaterialForm


def _month(request):
    return query.month(request.GET, first_year=2000, last_year=2100) or timezone.localdate().replace(day=1)


def _list_url(publisher_pk: int, month) -> str:
    return reverse("meetings:materials", args=[publisher_pk]) + f"?thang={month:%m/%Y}"


@require_GET
def materials(request, pk):
    """The publisher's materials of a month, each with how many cells attached it and how many members read it."""
    publisher = selectors.get_material_publisher_for_user_or_404(request.user, pk)
    month = _month(request)
    return render(
        request,
        "meetings/materials.html",
        {
            "publisher": publisher,
            "month": month,
            "previous": add_months(month, -1),
            "following": add_months(month, 1),
            "materials": selectors.materials_of_publisher(publisher=publisher, month=month),
            "can_publish": can(request.user, "materials.publish", publisher),
        },
    )


@require_http_methods(["GET", "POST"])
def material_publish(request, pk):
    publisher = selectors.get_material_publisher_for_user_or_404(request.user, pk, publish=True)
    month = _month(request)
    cells = indicators.cells_active(start=month, end=month_end(month), within=publisher).order_by("path")
    form = MaterialForm(request.POST or None, request.FILES or None, cells=cells, initial={"month": month})
    return form_cycle(
        request,
        form,
        lambda data: services.material_publish(publisher=publisher, by=request.user, **data),
        success=_("Đã ban hành tài liệu; bí thư các chi bộ nhận được thông báo."),
        redirect_to=_list_url(publisher.pk, form.cleaned_data["month"] if form.is_bound and form.is_valid() else month),
        template="meetings/form.html",
        context={"title": _("Ban hành tài liệu cho các chi bộ"), "intro": publisher.name},
    )


@require_GET
def material_detail(request, pk):
    """Per cell of the audience: attached or not, to which meeting; read x/y; ``?chi_bo=`` lists the names."""
    material = selectors.get_material_for_publisher_or_404(request.user, pk)
    tracking = selectors.material_tracking(material=material, today=timezone.localdate())
    chosen = request.GET.get("chi_bo", "")
    selected = next((row for row in tracking["rows"] if str(row.cell.pk) == chosen), None)
    return render(
        request,
        "meetings/material_detail.html",
        {"material": material, "selected": selected, **tracking},
    )


@require_http_methods(["GET", "HEAD"])
def material_file(request, pk):
    """The material for its readers: the opening is recorded (the reader's reading; for a confidential one the
    audit row first), then the file is served — a confidential one inline only, stamped, never a download."""
    material = selectors.get_material_for_reader_or_404(request.user, pk)
    member = getattr(request.user, "member", None)
    reader = member.full_name if member is not None else (request.user.get_full_name() or request.user.get_username())
    services.material_read_record(material=material, member=member, reader=reader, via="web", by=request.user)
    if not material.confidential:
        return FileResponse(material.file.open("rb"), as_attachment=True, filename=material.download_name)
    response = HttpResponse(
        documents.confidential_copy(material, reader=reader, at=timezone.now()), content_type="application/pdf"
    )
    response["Content-Disposition"] = content_disposition_header(False, material.download_name)
    return response


@require_POST
def material_attach(request, pk, material_pk):
    """One click on the meeting page: the material becomes one of the meeting's documents."""
    meeting = selectors.get_meeting_for_user_or_404(request.user, pk, write=True)
    material = selectors.materials_for_cell(cell=meeting.organisation).filter(pk=material_pk).first()
    if material is None:
        messages.error(request, _("Tài liệu này không gửi cho chi bộ."))
        return redirect(reverse("meetings:detail", args=[pk]) + "#tai-lieu")
    try:
        services.material_attach(material=material, meeting=meeting, by=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("Đã đính kèm “%(title)s” vào buổi sinh hoạt.") % {"title": material.title})
    return redirect(reverse("meetings:detail", args=[pk]) + "#tai-lieu")
