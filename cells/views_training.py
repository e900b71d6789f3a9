"""Training of bí thư and chi ủy viên (issue #18, item 5): the courses, their attendees and certificates, and
the list of officers in post without the course the Khối requires (the rule: cells/training.py)."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from lib.forms import add_service_errors
from lib.paging import page_of
from lib.views import form_cycle

from . import selectors, services, training
from .forms import CourseAttendanceForm, TrainingCourseForm
from .models import Organisation
from .permissions import require

COURSES_PER_PAGE = 50
OFFICERS_PER_PAGE = 100
UNIT_PARAMETER = "don_vi"


def _training_scope(user) -> Organisation | None:
    """The widest unit whose officers the user follows up (the link "Cấp ủy viên chưa được bồi dưỡng")."""
    if user.is_superuser:
        return Organisation.objects.filter(depth=1).order_by("path").first()
    for assignment in selectors.role_assignments_of(user):  # in tree order: the widest first
        if assignment.role in selectors.READ_TRAINING:
            return assignment.organisation
    return None


def course_list(request):
    require(request.user, "training.read")
    page = page_of(request, selectors.courses_visible_to(request.user), COURSES_PER_PAGE)
    return render(
        request,
        "cells/training/course_list.html",
        {
            "page": page,
            "courses": page.object_list,
            "can_create": selectors.course_organisers_for(request.user).exists(),
            "scope": _training_scope(request.user),
        },
    )


@require_http_methods(["GET", "POST"])
def course_create(request):
    require(request.user, "training.manage")
    organisers = selectors.course_organisers_for(request.user)
    form = TrainingCourseForm(request.POST or None, organisers=organisers, initial={"organiser": organisers.first()})
    if request.method == "POST" and form.is_valid():
        try:
            course = services.course_create(by=request.user, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Đã tạo lớp bồi dưỡng."))
            return redirect("training:course_detail", pk=course.pk)
    return render(request, "cells/training/form.html", {"form": form, "title": _("Thêm lớp bồi dưỡng")})


def course_detail(request, pk):
    course = selectors.get_course_for_user_or_404(request.user, pk)
    return render(
        request,
        "cells/training/course_detail.html",
        {
            "course": course,
            "attendances": selectors.course_attendances(course=course),
            "can_manage": selectors.can_manage_course(request.user, course),
        },
    )


@require_http_methods(["GET", "POST"])
def course_update(request, pk):
    course = selectors.get_course_for_user_or_404(request.user, pk, write=True)
    initial = {name: getattr(course, name) for name in services.COURSE_FIELDS}
    form = TrainingCourseForm(request.POST or None, initial=initial)
    return form_cycle(
        request,
        form,
        lambda data: services.course_update(course=course, by=request.user, **data),
        success=_("Đã lưu lớp bồi dưỡng."),
        redirect_to=reverse("training:course_detail", args=[course.pk]),
        template="cells/training/form.html",
        context={"title": _("Sửa lớp bồi dưỡng"), "course": course},
    )


def _unit_asked(request, course) -> Organisation | None:
    """The unit whose members the attendee list offers (``?don_vi=``), within the organiser's subtree."""
    value = request.GET.get(UNIT_PARAMETER, "")
    if not value.isdigit():
        return None
    return Organisation.objects.filter(pk=int(value), path__startswith=course.organiser.path).first()


@require_http_methods(["GET", "POST"])
def attendance_add(request, pk):
    course = selectors.get_course_for_user_or_404(request.user, pk, write=True)
    unit = _unit_asked(request, course)
    form = CourseAttendanceForm(
        request.POST or None, request.FILES or None, candidates=selectors.course_candidates(course=course, unit=unit)
    )
    return form_cycle(
        request,
        form,
        lambda data: services.attendance_add(course=course, by=request.user, **data),
        success=_("Đã ghi học viên."),
        redirect_to=reverse("training:course_detail", args=[course.pk]),
        template="cells/training/attendance_form.html",
        context={
            "title": _("Ghi học viên"),
            "course": course,
            "unit": unit,
            "units": Organisation.objects.filter(
                path__startswith=course.organiser.path, kind__in=Organisation.CELL_KINDS
            ).order_by("path"),
        },
    )


@require_http_methods(["GET", "POST"])
def attendance_update(request, pk):
    attendance = selectors.get_attendance_for_user_or_404(request.user, pk, write=True)
    initial = {"completed": attendance.completed, "certificate_number": attendance.certificate_number}
    form = CourseAttendanceForm(request.POST or None, request.FILES or None, initial=initial)
    return form_cycle(
        request,
        form,
        lambda data: services.attendance_update(attendance=attendance, by=request.user, **data),
        success=_("Đã lưu kết quả của học viên."),
        redirect_to=reverse("training:course_detail", args=[attendance.course_id]),
        template="cells/training/attendance_form.html",
        context={"title": attendance.member.full_name, "course": attendance.course, "attendance": attendance},
    )


@require_POST
def attendance_delete(request, pk):
    attendance = selectors.get_attendance_for_user_or_404(request.user, pk, write=True)
    services.attendance_delete(attendance=attendance, by=request.user)
    messages.success(request, _("Đã bỏ %(name)s khỏi danh sách học viên.") % {"name": attendance.member.full_name})
    return redirect("training:course_detail", pk=attendance.course_id)


def certificate_download(request, pk):
    attendance = selectors.get_attendance_for_user_or_404(request.user, pk)
    if not attendance.certificate:
        raise Http404
    try:
        handle = attendance.certificate.open("rb")
    except FileNotFoundError:
        raise Http404 from None
    return FileResponse(
        handle,
        as_attachment=True,
        filename=attendance.certificate_name or attendance.certificate.name,
        content_type=attendance.certificate_type or None,
    )


def officers_untrained(request, pk):
    """ "Cấp ủy viên chưa được bồi dưỡng": the officers in post in the unit's subtree, overdue or due soon."""
    organisation = selectors.training_scope_or_404(request.user, pk)
    today = timezone.localdate()
    subtree = Organisation.objects.filter(path__startswith=organisation.path)
    rows = training.officers_due(organisations=subtree, on=today)
    page = page_of(request, rows, OFFICERS_PER_PAGE)
    return render(
        request,
        "cells/training/officers.html",
        {
            "organisation": organisation,
            "today": today,
            "page": page,
            "rows": page.object_list,
            "overdue": sum(row.state == training.OVERDUE for row in rows),
            "due_soon": sum(row.state == training.DUE_SOON for row in rows),
            "deadline_months": training.TRAINING_DEADLINE_MONTHS,
            "due_soon_days": training.DUE_SOON_DAYS,
        },
    )
