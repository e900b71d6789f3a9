"""Training of bí thư and chi ủy viên (issue #18, item 5): the courses the Khối or a đảng ủy cơ sở holds, and
who attended them with their certificates. Who must be trained by when is cells/training.py."""

import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from lib.formatting import date_text
from lib.uploads import check_content

from ..models import CourseAttendance, Member, Organisation, TrainingCourse
from ..training import ORGANISER_KINDS
from .audit import audit_log, snapshot

COURSE_FIELDS = ("title", "kind", "start_date", "end_date", "place", "notes")
CERTIFICATE_MAX_BYTES = 10 * 1024 * 1024
# A certificate's scan or photo, by the type its content shows, with the name endings that type may carry.
CERTIFICATE_KINDS = {
    "application/pdf": (".pdf",),
    "image/jpeg": (".jpg", ".jpeg"),
    "image/png": (".png",),
}


# --- courses -----------------------------------------------------------------------------------


def course_check(
    *, organiser: Organisation, start_date: datetime.date, end_date: datetime.date, course: TrainingCourse | None = None
) -> None:
    """A course is held by the Khối or a đảng ủy cơ sở, ends on or after its first day, and does not move its
    end past today once an attendee is recorded as having completed it."""
    errors = {}
    if organiser.kind not in ORGANISER_KINDS:
        errors["organiser"] = _("Lớp bồi dưỡng do Đảng bộ Khối hoặc một đảng bộ cơ sở tổ chức.")
    if start_date and end_date and end_date < start_date:
        errors["end_date"] = _("Ngày kết thúc phải từ ngày bắt đầu (%(start)s) trở đi.") % {
            "start": date_text(start_date)
        }
    elif course is not None and end_date and end_date > timezone.localdate():
        if course.attendances.filter(completed=True).exists():
            errors["end_date"] = _("Đã có học viên hoàn thành lớp: ngày kết thúc không thể ở tương lai.")
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def course_create(
    *,
    organiser: Organisation,
    title: str,
    start_date: datetime.date,
    end_date: datetime.date,
    kind: str = TrainingCourse.Kind.OFFICER,
    place: str = "",
    notes: str = "",
    by=None,
) -> TrainingCourse:
    course_check(organiser=organiser, start_date=start_date, end_date=end_date)
    course = TrainingCourse(
        organiser=organiser, title=title, kind=kind, start_date=start_date, end_date=end_date, place=place, notes=notes
    )
    course.full_clean()
    course.save()
    audit_log(
        actor=by, action="cells.training_course.create", instance=course, organisation=organiser, after=snapshot(course)
    )
    return course


@transaction.atomic
def course_update(*, course: TrainingCourse, by=None, **fields) -> TrainingCourse:
    """Change a course's record (its organiser stays: the attendees were picked from its subtree)."""
    course = TrainingCourse.objects.select_for_update().get(pk=course.pk)
    unknown = set(fields) - set(COURSE_FIELDS)
    if unknown:
        raise TypeError(f"unknown course fields: {sorted(unknown)}")
    before = snapshot(course)
    for name, value in fields.items():
        setattr(course, name, value)
    course_check(organiser=course.organiser, start_date=course.start_date, end_date=course.end_date, course=course)
    course.full_clean()
    course.save()
    audit_log(
        actor=by,
        action="cells.training_course.update",
        instance=course,
        organisation=course.organiser,
        before=before,
        after=snapshot(course),
    )
    return course


# --- attendances ---------------------------------------------------------------------------------


def _attendance_snapshot(attendance: CourseAttendance) -> dict:
    data = snapshot(attendance)
    data["certificate"] = attendance.certificate.name if attendance.certificate else ""
    return data


def attendance_check(
    *, course: TrainingCourse, completed: bool, certificate_number: str, certificate, has_certificate: bool = False
) -> str:
    """Completion only once the course has ended; a certificate only for a completed course. Returns the
    certificate's content type ("" without a new file)."""
    errors = {}
    if completed and course.end_date > timezone.localdate():
        errors["completed"] = _("Lớp kết thúc ngày %(end)s: chỉ ghi hoàn thành sau ngày đó.") % {
            "end": date_text(course.end_date)
        }
    if not completed and (certificate_number or certificate or has_certificate):
        errors["certificate_number"] = _("Chỉ ghi giấy chứng nhận cho học viên đã hoàn thành lớp.")
    if errors:
        raise ValidationError(errors)
    if not certificate:
        return ""
    try:
        return check_content(
            certificate,
            kinds=CERTIFICATE_KINDS,
            max_bytes=CERTIFICATE_MAX_BYTES,
            too_large=_("Tệp lớn hơn 10 MB."),
            not_allowed=_("Chỉ nhận tệp PDF hoặc ảnh (JPG, PNG)."),
        )
    except ValidationError as error:
        raise ValidationError({"certificate": error.message_dict["file"]}) from None


def _member_check(*, course: TrainingCourse, member: Member) -> None:
    organisation = member.organisation
    if (
        member.state != Member.State.ACTIVE
        or organisation is None
        or not organisation.is_descendant_of(course.organiser)
    ):
        raise ValidationError(
            {"member": _("Chọn một đảng viên đang sinh hoạt trong %(unit)s.") % {"unit": course.organiser.name}}
        )
    if CourseAttendance.objects.filter(course=course, member=member).exists():
        raise ValidationError({"member": _("%(name)s đã có trong danh sách học viên của lớp.") % {"name": member}})


def _attach_certificate(attendance: CourseAttendance, certificate, content_type: str) -> str | None:
    """Put a new certificate file on ``attendance``; returns the old file's name to delete after the commit."""
    if not certificate:
        return None
    old = attendance.certificate.name if attendance.certificate else None
    attendance.certificate = certificate
    attendance.certificate_name = (certificate.name or "")[:255]
    attendance.certificate_type = content_type
    return old


@transaction.atomic
def attendance_add(
    *,
    course: TrainingCourse,
    member: Member,
    completed: bool = False,
    certificate_number: str = "",
    certificate=None,
    by=None,
) -> CourseAttendance:
    """Record a member of the organiser's subtree at a course (once per course)."""
    TrainingCourse.objects.select_for_update().filter(pk=course.pk).first()
    _member_check(course=course, member=member)
    content_type = attendance_check(
        course=course, completed=completed, certificate_number=certificate_number, certificate=certificate
    )
    attendance = CourseAttendance(
        course=course, member=member, completed=completed, certificate_number=certificate_number
    )
    _attach_certificate(attendance, certificate, content_type)
    attendance.save()
    audit_log(
        actor=by,
        action="cells.course_attendance.create",
        instance=attendance,
        organisation=course.organiser,
        after=_attendance_snapshot(attendance),
    )
    return attendance


@transaction.atomic
def attendance_update(
    *,
    attendance: CourseAttendance,
    completed: bool,
    certificate_number: str = "",
    certificate=None,
    by=None,
) -> CourseAttendance:
    """Record completion and the certificate (a new file replaces the previous one)."""
    attendance = CourseAttendance.objects.select_for_update().select_related("course").get(pk=attendance.pk)
    content_type = attendance_check(
        course=attendance.course,
        completed=completed,
        certificate_number=certificate_number,
        certificate=certificate,
        has_certificate=bool(attendance.certificate),
    )
    before = _attendance_snapshot(attendance)
    attendance.completed = completed
    attendance.certificate_number = certificate_number
    old_file = _attach_certificate(attendance, certificate, content_type)
    attendance.save()
    if old_file and old_file != attendance.certificate.name:
        storage = attendance.certificate.storage
        transaction.on_commit(lambda: storage.delete(old_file))
    audit_log(
        actor=by,
        action="cells.course_attendance.update",
        instance=attendance,
        organisation=attendance.course.organiser,
        before=before,
        after=_attendance_snapshot(attendance),
    )
    return attendance


@transaction.atomic
def attendance_delete(*, attendance: CourseAttendance, by=None) -> None:
    """Take a member recorded by mistake off the course's list; the audit row keeps what was removed."""
    attendance = CourseAttendance.objects.select_for_update().select_related("course").get(pk=attendance.pk)
    audit_log(
        actor=by,
        action="cells.course_attendance.delete",
        instance=attendance,
        organisation=attendance.course.organiser,
        before=_attendance_snapshot(attendance),
    )
    old_file = attendance.certificate.name if attendance.certificate else None
    storage = attendance.certificate.storage
    attendance.delete()
    if old_file:
        transaction.on_commit(lambda: storage.delete(old_file))
