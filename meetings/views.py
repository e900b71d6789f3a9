"""Views of the meetings app: parse, call one service, set a message, redirect."""

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from lib.dates import add_months
from lib.forms import add_service_errors
from lib.paging import page_of
from lib.views import form_cycle, run_service

from . import async_decisions, documents, indicators, online, selectors, services
from .forms import (
    AbsenceDecisionForm,
    AbsenceRequestForm,
    AgendaItemForm,
    AmendmentForm,
    AttendanceForm,
    CancelForm,
    DocumentForm,
    DraftCommentForm,
    HeldForm,
    MeetingForm,
    OnlineOpinionForm,
    OnlineVoteOpenForm,
    OpinionForm,
    PastMeetingForm,
    ResolutionForm,
    RsvpForm,
    TaskForm,
    TaskStatusForm,
    VoteForm,
)
from .models import Attendance, Meeting, Resolution


def _form_page(
    request, form, action, *, success, redirect_to, title, meeting=None, template="meetings/form.html", extra=None
):
    """The shared GET/POST cycle (lib.views.form_cycle) on the meetings' form template."""
    return form_cycle(
        request,
        form,
        action,
        success=success,
        redirect_to=redirect_to,
        template=template,
        context={"title": title, "meeting": meeting, **(extra or {})},
    )


def _pdf_response(pdf: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    return response


# --- lists ---------------------------------------------------------------------------------


def index(request):
    cells = selectors.cells_visible_to(request.user).order_by("path")
    if not cells.exists():
        raise PermissionDenied
    if cells.count() == 1:
        return redirect("meetings:cell_list", cell_pk=cells.get().pk)
    page = page_of(request, cells.select_related("parent"))
    return render(request, "meetings/index.html", {"page": page})


# Four years of a cell's monthly, thematic and committee meetings on a page.
MEETINGS_PER_PAGE = 50


def cell_meetings(request, cell_pk):
    cell = selectors.get_cell_for_user_or_404(request.user, cell_pk)
    can_write = selectors.can_write_cell(request.user, cell)
    page = page_of(request, selectors.meeting_list(user=request.user, cell=cell), MEETINGS_PER_PAGE)
    return render(
        request,
        "meetings/meeting_list.html",
        {
            "cell": cell,
            "can_write": can_write,
            "meetings": page.object_list,
            "page": page,
            "tasks": selectors.tasks_of_cell(cell=cell).filter(status="open") if can_write else None,
            "today": timezone.localdate(),
            "plan": selectors.thematic_plan(cell=cell, year=timezone.localdate().year, today=timezone.localdate()),
        },
    )


def my_tasks(request):
    member = getattr(request.user, "member", None)
    page = page_of(request, selectors.tasks_of_member(member=member) if member else [])
    return render(
        request, "meetings/my_tasks.html", {"tasks": page.object_list, "page": page, "today": timezone.localdate()}
    )


# --- planning ------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def meeting_create(request, cell_pk):
    cell = selectors.get_cell_for_user_or_404(request.user, cell_pk, write=True)
    form = MeetingForm(request.POST or None, cell=cell)
    if request.method == "POST" and form.is_valid():
        try:
            meeting = services.meeting_create(organisation=cell, by=request.user, **form.service_kwargs())
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Đã lập kế hoạch buổi sinh hoạt."))
            return redirect(meeting)
    return render(request, "meetings/form.html", {"form": form, "title": _("Lập kế hoạch sinh hoạt"), "cell": cell})


@require_http_methods(["GET", "POST"])
def meeting_record_past(request, cell_pk):
    """Enter a meeting already held, from its paper minutes; the minutes are then completed as usual."""
    cell = selectors.get_cell_for_user_or_404(request.user, cell_pk, write=True)
    form = PastMeetingForm(request.POST or None, cell=cell)
    if request.method == "POST" and form.is_valid():
        try:
            meeting = services.meeting_record_past(organisation=cell, by=request.user, **form.service_kwargs())
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(
                request,
                _(
                    "Đã nhập bổ sung buổi sinh hoạt. Tiếp theo: ghi ý kiến phát biểu, biểu quyết, "
                    "nhiệm vụ theo biên bản giấy, rồi thông qua biên bản."
                ),
            )
            return redirect(meeting)
    return render(
        request,
        "meetings/form.html",
        {
            "form": form,
            "cell": cell,
            "title": _("Nhập cuộc họp đã tổ chức"),
            "intro": _(
                "Dùng cho buổi sinh hoạt đã họp và ghi biên bản trên giấy: nhập theo đúng biên bản giấy. "
                "Buổi sinh hoạt được đánh dấu “nhập bổ sung”, ghi rõ người nhập và thời điểm nhập."
            ),
        },
    )


@require_http_methods(["GET", "POST"])
def meeting_update(request, pk):
    meeting = selectors.get_meeting_for_user_or_404(request.user, pk, write=True)
    if meeting.is_locked:
        messages.error(request, _("Buổi sinh hoạt đã khóa, không thể sửa."))
        return redirect("meetings:detail", pk=pk)
    form = MeetingForm(request.POST or None, instance=meeting, cell=meeting.organisation)
    return _form_page(
        request,
        form,
        lambda data: services.meeting_update(meeting=meeting, by=request.user, **form.service_kwargs()),
        success=_("Đã lưu buổi sinh hoạt."),
        redirect_to=meeting.get_absolute_url(),
        title=_("Sửa buổi sinh hoạt"),
        meeting=meeting,
    )


@require_POST
def meeting_publish(request, pk):
    meeting = selectors.get_meeting_for_user_or_404(request.user, pk, write=True)
    try:
        services.meeting_publish(meeting=meeting, by=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("Đã gửi thông báo đến các đảng viên."))
    return redirect("meetings:detail", pk=pk)


@require_POST
def meeting_plan_next(request, pk):
    meeting = selectors.get_meeting_for_user_or_404(request.user, pk, write=True)
    # Next month already has its regular meeting: go to it instead of an error (issue #15).
    existing = (
        Meeting.objects.filter(
            organisation=meeting.organisation,
            kind__in=Meeting.REGULAR_KINDS,
            period_month=add_months(meeting.period_month, 1),
        )
        .exclude(state=Meeting.State.CANCELLED)
        .first()
    )
    if existing is not None:
        messages.info(request, _("Tháng sau đã có kế hoạch sinh hoạt thường kỳ: đây là buổi sinh hoạt đó."))
        return redirect("meetings:detail", pk=existing.pk)
    try:
        following = services.meeting_plan_next_month(meeting=meeting, by=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("meetings:detail", pk=pk)
    messages.success(request, _("Đã lập kế hoạch sinh hoạt tháng sau; hãy kiểm tra ngày giờ."))
    return redirect("meetings:update", pk=following.pk)


@require_http_methods(["GET", "POST"])
def meeting_cancel(request, pk):
    meeting = selectors.get_meeting_for_user_or_404(request.user, pk, write=True)
    return _form_page(
        request,
        CancelForm(request.POST or None),
        lambda data: services.meeting_cancel(meeting=meeting, by=request.user, **data),
        success=_("Đã hủy buổi sinh hoạt."),
        redirect_to=meeting.get_absolute_url(),
        title=_("Hủy buổi sinh hoạt"),
        meeting=meeting,
    )


@require_http_methods(["GET", "POST"])
def agenda_item_add(request, pk):
    meeting = selectors.get_meeting_for_user_or_404(request.user, pk, write=True)
    return _form_page(
        request,
        AgendaItemForm(request.POST or None),
        lambda data: services.agenda_item_add(meeting=meeting, by=request.user, **data),
        success=_("Đã thêm nội dung vào chương trình."),
        redirect_to=meeting.get_absolute_url(),
        title=_("Thêm nội dung chương trình"),
        meeting=meeting,
    )


@require_http_methods(["GET", "POST"])
def agenda_item_edit(request, pk, item_pk):
    meeting = selectors.get_meeting_for_user_or_404(request.user, pk, write=True)
    item = get_object_or_404(meeting.agenda_items, pk=item_pk)
    form = AgendaItemForm(request.POST or None, initial={"title": item.title, "notes": item.notes})
    return _form_page(
        request,
        form,
        lambda data: services.agenda_item_update(item=item, by=request.user, **data),
        success=_("Đã lưu nội dung chương trình."),
        redirect_to=meeting.get_absolute_url(),
        title=_("Sửa nội dung chương trình"),
        meeting=meeting,
    )


@require_http_methods(["GET", "POST"])
def document_add(request, pk):
    meeting = selectors.get_meeting_for_user_or_404(request.user, pk, write=True)
    form = DocumentForm(request.POST or None, request.FILES or None)
    return _form_page(
        request,
        form,
        lambda data: services.meeting_document_add(meeting=meeting, by=request.user, **data),
        success=_("Đã tải lên tài liệu."),
        redirect_to=meeting.get_absolute_url(),
        title=_("Tải lên tài liệu"),
        meeting=meeting,
    )


def _document_response(request, document, *, member, reader: str, via: str, by=None):
    """Record the opening (the receipt; for a confidential document the audit row, first), then serve it:
    a confidential one inline only, stamped with the reader and the time, never cached; others as a download."""
    services.document_read_record(document=document, member=member, reader=reader, via=via, by=by)
    if not document.confidential:
        return FileResponse(document.file.open("rb"), as_attachment=True, filename=document.download_name)
    from django.utils.http import content_disposition_header

    response = HttpResponse(
        documents.confidential_copy(document, reader=reader, at=timezone.now()), content_type="application/pdf"
    )
    # Inline only; "Cache-Control: private, no-store" is set on it by cells.middleware.PrivateResponseMiddleware.
    response["Content-Disposition"] = content_disposition_header(False, document.download_name)
    return response


def _reader_name(user, member) -> str:
    if member is not None:
        return member.full_name
    return user.get_full_name() or user.get_username()


def document_download(request, pk, document_pk):
    """A document from the meeting page: opening it is the reader's receipt when they are on the meeting's list."""
    meeting = selectors.get_meeting_for_user_or_404(request.user, pk)
    document = get_object_or_404(meeting.documents.select_related("meeting__organisation"), pk=document_pk)
    member = getattr(request.user, "member", None)
    return _document_response(
        request, document, member=member, reader=_reader_name(request.user, member), via="web", by=request.user
    )


@login_not_required
@require_http_methods(["GET", "HEAD"])
def rsvp_document(request, token, document_pk):
    """A document of the member's own meeting from their one-click link (no login): their receipt."""
    try:
        meeting, attendance = services.rsvp_read_token(token)
    except ValidationError as error:
        return render(request, "meetings/rsvp.html", {"error": " ".join(error.messages)}, status=400)
    document = get_object_or_404(meeting.documents.select_related("meeting__organisation"), pk=document_pk)
    member = attendance.member
    if request.method == "GET" and meeting.state == Meeting.State.NOTIFIED:
        services.notice_opened_record(attendance=attendance)
    return _document_response(request, document, member=member, reader=member.full_name, via="link")


@require_POST
def remind_documents(request, pk):
    meeting = selectors.get_meeting_for_user_or_404(request.user, pk, write=True)
    try:
        count = services.documents_remind(meeting=meeting, by=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(
            request,
            _("Đã nhắc %(count)s đảng viên chưa xem tài liệu.") % {"count": count}
            if count
            else _("Mọi đảng viên đã xem đủ tài liệu."),
        )
    return redirect(reverse("meetings:detail", args=[pk]) + "#tai-lieu")


# --- the meeting page and RSVP ---------------------------------------------------------------


def meeting_detail(request, pk):
    meeting = selectors.get_meeting_for_user_or_404(request.user, pk)
    member = getattr(request.user, "member", None)
    can_write = selectors.can_write_cell(request.user, meeting.organisation)
    # The secretary's read receipts, once the notice is out (its list is whom the documents are for).
    show_reads = can_write and meeting.state != Meeting.State.DRAFT
    can_minutes = selectors.can_write_minutes(request.user, meeting)
    own = meeting.attendances.filter(member=member).first() if member else None
    if own is not None and meeting.state == Meeting.State.NOTIFIED:
        services.notice_opened_record(attendance=own)  # the member opened the notice (issue #17 item 6)
    return render(
        request,
        "meetings/meeting_detail.html",
        {
            # The member's room of an online or hybrid meeting, inside its window (issue #17 item 3).
            "own_room": services.rsvp_token(meeting=meeting, member=member)
            if own is not None and online.window_open(meeting)
            else "",
            "meeting": meeting,
            "can_write": can_write,
            "can_minutes": can_minutes,
            "counts": selectors.rsvp_counts(meeting=meeting),
            "attendances": meeting.attendances.select_related("member").order_by("member__full_name"),
            "own": own,
            "documents": selectors.document_reads(meeting, receipts=show_reads),
            # The upper level's materials of the meeting's month not attached yet: one click attaches one.
            "materials_to_attach": selectors.materials_to_attach(meeting)
            if can_write and not meeting.is_locked
            else [],
            "show_reads": show_reads,
            "can_remind_documents": can_write
            and meeting.state == Meeting.State.NOTIFIED
            and timezone.now() < meeting.planned_start,
            "votes": selectors.votes_of(meeting),
            # Once attendance is being recorded: before the meeting nobody is present yet.
            "vote_base": selectors.vote_base(meeting)
            if meeting.state in (Meeting.State.HELD, Meeting.State.MINUTES_ADOPTED) or meeting.votes.exists()
            else None,
            "opinions": meeting.opinions.select_related("speaker", "agenda_item"),
            "resolution": Resolution.objects.filter(meeting=meeting).first(),
            "tasks": meeting.tasks.prefetch_related("assignees"),
            "upper_guests": meeting.upper_guests.all(),
            # The upper-level visitors' observation cards, for the cell's upper level (issue #18).
            "observations": selectors.visit_observations_of(user=request.user, meeting=meeting),
            "problems": services.minutes_completeness(meeting) if meeting.state == Meeting.State.HELD else [],
            "report_up": _report_up(meeting),
            # The results of the questions asked since the previous meeting, at the opening step (issue #17).
            "async_decisions": async_decisions.reported_at(meeting),
            "now": timezone.now(),
            **_before_meeting_context(meeting, member=member, can_minutes=can_minutes),
        },
    )


def _before_meeting_context(meeting: Meeting, *, member, can_minutes: bool) -> dict:
    """What the members sent before the meeting (issue #17 item 2): the whole of it for whoever records
    the meeting's attendance, each member's own otherwise."""
    own = member if not can_minutes else None
    speakers = selectors.speak_requests_of(meeting) if can_minutes else {}
    own_items = selectors.own_speak_item_ids(meeting, member)
    agenda = list(selectors.agenda_of(meeting))
    for item in agenda:
        item.speakers = speakers.get(item.pk, [])
        item.own_speak = item.pk in own_items
    return {
        "agenda": agenda,
        "before_meeting": selectors.before_meeting(meeting),
        "absence_requests": selectors.absence_requests_of(meeting) if can_minutes else None,
        "own_requests": selectors.absence_requests_of(meeting, member=member) if member else [],
        "draft_comments": selectors.draft_comments_of(meeting, member=own) if can_minutes or member else [],
    }


def _report_up(meeting: Meeting) -> dict | None:
    """The conclusion's report upward, once the minutes are adopted: when, to whom, in time or not."""
    if meeting.state != Meeting.State.MINUTES_ADOPTED:
        return None

    return {
        "at": meeting.reported_up_at,
        "to": meeting.reported_up_to.splitlines(),
        "due": indicators.report_up_due_at(meeting),
        "in_time": indicators.reported_up_in_time(meeting),
    }


def rsvp_counts(request, pk):
    """The live yes / no / not-answered counts, polled by the meeting page."""
    meeting = selectors.get_meeting_for_user_or_404(request.user, pk)
    return render(
        request, "meetings/_rsvp_counts.html", {"meeting": meeting, "counts": selectors.rsvp_counts(meeting=meeting)}
    )


@require_POST
def meeting_confirm(request, pk):
    """A logged-in member confirms or declines from the meeting page."""
    meeting = selectors.get_meeting_for_user_or_404(request.user, pk)
    member = getattr(request.user, "member", None)
    if member is None:
        raise PermissionDenied
    form = RsvpForm(request.POST)  # the reason's length and characters (a NUL byte answered 500)
    if not form.is_valid():
        messages.error(request, " ".join(message for errors in form.errors.values() for message in errors))
        return redirect("meetings:detail", pk=pk)
    try:
        services.attendance_confirm(
            meeting=meeting,
            member=member,
            attending=request.POST.get("answer") == "yes",
            reason=form.cleaned_data["reason"],
            by=request.user,
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("Đã ghi nhận xác nhận của đồng chí."))
    return redirect(_safe_next(request) or reverse("meetings:detail", args=[pk]))


@login_not_required
@require_http_methods(["GET", "POST"])
def rsvp(request, token):
    """The one-click page from the notice: no login, shows only this meeting."""
    try:
        meeting, attendance = services.rsvp_read_token(token)
    except ValidationError as error:
        return render(request, "meetings/rsvp.html", {"error": " ".join(error.messages)}, status=400)
    if request.method == "GET" and meeting.state == Meeting.State.NOTIFIED:
        services.notice_opened_record(attendance=attendance)  # the first view of the notice (issue #17 item 6)
    form = RsvpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            attendance = services.attendance_rsvp(
                token=token, attending=request.POST.get("answer") == "yes", reason=form.cleaned_data["reason"]
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Cảm ơn đồng chí, đã ghi nhận."))
            return redirect("meetings:rsvp", token=token)
    # Only the agenda's titles: the page is opened from every notice, anonymously, and kept light.
    return render(
        request,
        "meetings/rsvp.html",
        {
            "meeting": meeting,
            "attendance": attendance,
            "form": form,
            "agenda": selectors.agenda_of(meeting).values_list("title", flat=True),
            "open": selectors.before_meeting(meeting),
            # The documents and the draft conclusion, to read before the meeting (issue #17).
            "documents": meeting.documents.all(),
            "read": selectors.documents_read_by(meeting=meeting, member=attendance.member),
            "resolution": Resolution.objects.filter(meeting=meeting).first(),
            "token": token,
            # An online or hybrid meeting's room opens 30 minutes before the start (meetings.online).
            "online_open": online.window_open(meeting),
        },
    )


# --- recording --------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def meeting_held(request, pk):
    meeting = selectors.get_meeting_for_user_or_404(request.user, pk, write=True, minutes=True)
    initial = {
        "actual_start": meeting.actual_start or meeting.planned_start,
        "actual_end": meeting.actual_end,
        "short_reason": meeting.short_reason,
    }
    return _form_page(
        request,
        HeldForm(request.POST or None, initial=initial),
        lambda data: services.meeting_record_held(meeting=meeting, by=request.user, **data),
        success=_("Đã ghi nhận thời gian sinh hoạt."),
        redirect_to=meeting.get_absolute_url(),
        title=_("Thời gian sinh hoạt thực tế"),
        meeting=meeting,
    )


@require_http_methods(["GET", "POST"])
def attendance_record(request, pk):
    meeting = selectors.get_meeting_for_user_or_404(request.user, pk, write=True, minutes=True)
    form = AttendanceForm(request.POST or None, meeting=meeting)
    if request.method == "POST" and form.is_valid():
        try:
            services.attendance_record(
                meeting=meeting,
                presence=form.presence(all_present=bool(request.POST.get("all_present"))),
                items=form.items(),
                by=request.user,
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Đã lưu điểm danh."))
            return redirect("meetings:detail", pk=pk)
    return render(
        request, "meetings/attendance_form.html", {"form": form, "meeting": meeting, "choices": Attendance.Presence}
    )


@require_http_methods(["GET", "POST"])
def opinion_add(request, pk):
    meeting = selectors.get_meeting_for_user_or_404(request.user, pk, write=True, minutes=True)
    initial = {"agenda_item": request.GET.get("item")}
    return _form_page(
        request,
        OpinionForm(request.POST or None, meeting=meeting, initial=initial),
        lambda data: services.opinion_add(meeting=meeting, by=request.user, **data),
        success=_("Đã ghi ý kiến."),
        redirect_to=meeting.get_absolute_url() + "#y-kien",
        title=_("Ghi ý kiến phát biểu"),
        meeting=meeting,
    )


@require_http_methods(["GET", "POST"])
def vote_add(request, pk):
    meeting = selectors.get_meeting_for_user_or_404(request.user, pk, write=True, minutes=True)
    base = selectors.vote_base(meeting)
    form = VoteForm(request.POST or None, meeting=meeting, base=base)
    return _form_page(
        request,
        form,
        lambda data: services.vote_record(meeting=meeting, by=request.user, **data),
        success=_("Đã ghi kết quả biểu quyết."),
        redirect_to=meeting.get_absolute_url() + "#bieu-quyet",
        title=_("Ghi kết quả biểu quyết"),
        meeting=meeting,
        template="meetings/vote_form.html",
        extra={"vote_base": base},
    )


@require_http_methods(["GET", "POST"])
def resolution_edit(request, pk):
    meeting = selectors.get_meeting_for_user_or_404(request.user, pk, write=True, minutes=True)
    existing = Resolution.objects.filter(meeting=meeting).first()
    initial = {"kind": existing.kind, "text": existing.text} if existing else {}
    return _form_page(
        request,
        ResolutionForm(request.POST or None, initial=initial),
        lambda data: services.resolution_set(meeting=meeting, by=request.user, **data),
        success=_("Đã lưu kết luận."),
        redirect_to=meeting.get_absolute_url(),
        title=_("Kết luận / nghị quyết"),
        meeting=meeting,
    )


@require_http_methods(["GET", "POST"])
def task_add(request, pk):
    meeting = selectors.get_meeting_for_user_or_404(request.user, pk, write=True, minutes=True)
    return _form_page(
        request,
        TaskForm(request.POST or None, meeting=meeting),
        lambda data: services.task_create(meeting=meeting, by=request.user, **data),
        success=_("Đã giao nhiệm vụ."),
        redirect_to=meeting.get_absolute_url() + "#nhiem-vu",
        title=_("Phân công nhiệm vụ"),
        meeting=meeting,
    )


@require_http_methods(["GET", "POST"])
def task_update(request, task_pk):
    task = selectors.get_task_for_user_or_404(request.user, task_pk, write=True)
    form = TaskStatusForm(request.POST or None, initial={"status": task.status, "result": task.result})
    return _form_page(
        request,
        form,
        lambda data: services.task_update_status(task=task, by=request.user, **data),
        success=_("Đã cập nhật nhiệm vụ."),
        redirect_to="meetings:my_tasks",
        title=_("Cập nhật nhiệm vụ: %(task)s") % {"task": task},
        meeting=task.meeting,
    )


# --- minutes, adoption, documents --------------------------------------------------------------


def _minutes_meeting_or_404(request, pk):
    """A plain member reads the minutes once adopted; a draft (or next month's empty record) is for those who
    keep or read the cell's books (issue #15)."""
    from cells.selectors import READ_MEMBERS, roles_over

    meeting = selectors.get_meeting_for_user_or_404(request.user, pk)
    if meeting.state != Meeting.State.MINUTES_ADOPTED and not (
        roles_over(request.user, meeting.organisation) & READ_MEMBERS
        or selectors.can_write_minutes(request.user, meeting)
    ):
        raise Http404
    return meeting


def minutes(request, pk):
    meeting = _minutes_meeting_or_404(request, pk)
    from lib.documents import signing_configured

    return render(
        request,
        "meetings/minutes.html",
        {
            **selectors.minutes_context(meeting),
            "filed": list(meeting.filed_documents.order_by("kind")),
            "signing_configured": signing_configured(),
            "can_write": selectors.can_write_cell(request.user, meeting.organisation),
        },
    )


def _filed_response(meeting, kind, filename):
    """The filed PDF of an adopted document, served as it was filed; None when there is none."""
    filed = selectors.filed_document(meeting=meeting, kind=kind)
    if filed is None:
        return None
    with filed.file.open("rb") as handle:
        return _pdf_response(handle.read(), filename)


def minutes_pdf(request, pk):
    meeting = _minutes_meeting_or_404(request, pk)
    filename = f"bien-ban-{meeting.pk}.pdf"
    return _filed_response(meeting, "minutes", filename) or _pdf_response(documents.minutes_pdf(meeting), filename)


def notice_pdf(request, pk):
    meeting = selectors.get_meeting_for_user_or_404(request.user, pk)
    if meeting.is_entered_afterwards:
        # Its notice, if any, was the paper one: the portal prints no notice it never sent.
        messages.error(
            request, _("Buổi sinh hoạt nhập bổ sung: thông báo (nếu có) là văn bản giấy, cổng không in lại.")
        )
        return redirect("meetings:detail", pk=pk)
    return _pdf_response(documents.notice_pdf(meeting), f"thong-bao-{meeting.pk}.pdf")


def resolution_pdf(request, pk):
    meeting = selectors.get_meeting_for_user_or_404(request.user, pk)
    if not Resolution.objects.filter(meeting=meeting).exists():
        messages.error(request, _("Chưa có kết luận."))
        return redirect("meetings:detail", pk=pk)
    filename = f"ket-luan-{meeting.pk}.pdf"
    return _filed_response(meeting, "resolution", filename) or _pdf_response(
        documents.resolution_pdf(meeting), filename
    )


def minutes_book_pdf(request, cell_pk, year):
    cell = selectors.get_cell_for_user_or_404(request.user, cell_pk)
    return _pdf_response(documents.minutes_book_pdf(cell, year), f"so-bien-ban-{cell.pk}-{year}.pdf")


@require_http_methods(["GET", "POST"])
def meeting_adopt(request, pk):
    meeting = selectors.get_meeting_for_user_or_404(request.user, pk, write=True)
    if request.method == "POST":
        try:
            services.meeting_adopt_minutes(meeting=meeting, by=request.user)
        except ValidationError as error:
            messages.error(
                request, _("Chưa thể thông qua biên bản: %(problems)s") % {"problems": " ".join(error.messages)}
            )
            return redirect("meetings:adopt", pk=pk)
        messages.success(request, _("Đã thông qua và khóa biên bản."))
        return redirect("meetings:minutes", pk=pk)
    return render(
        request, "meetings/adopt.html", {"meeting": meeting, "problems": services.minutes_completeness(meeting)}
    )


@require_http_methods(["GET", "POST"])
def amendment_add(request, pk):
    meeting = selectors.get_meeting_for_user_or_404(request.user, pk, write=True)
    return _form_page(
        request,
        AmendmentForm(request.POST or None),
        lambda data: services.amendment_add(meeting=meeting, by=request.user, **data),
        success=_("Đã ghi đính chính."),
        redirect_to=reverse("meetings:minutes", args=[pk]),
        title=_("Đính chính biên bản"),
        meeting=meeting,
    )


# --- public verification of filed documents (issue #14) -----------------------------------------------

VERIFY_MAX_UPLOAD = 20 * 1024 * 1024


def _verify_rate_limited(request) -> bool:
    """At most ``settings.VERIFY_RATE_LIMIT`` lookups per client address in a window (the page needs no login). Behind
    the TLS proxy the address is the one the proxy forwarded (lib.client_address, ``TRUSTED_PROXY_COUNT``)."""
    from django.conf import settings
    from django.core.cache import cache

    limit, window = settings.VERIFY_RATE_LIMIT
    from lib.client_address import client_address

    key = f"verify:{client_address(request)}"
    cache.add(key, 0, timeout=window)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=window)
        count = 1
    return count > limit


@login_not_required
def verify_lookup(request):
    """The public page: type the code printed on a document."""
    if _verify_rate_limited(request):
        return render(request, "meetings/verify.html", {"limited": True}, status=429)
    code = (request.GET.get("ma") or "").strip().upper()
    if code:
        return redirect("verify_document", code=code)
    return render(request, "meetings/verify.html", {})


@login_not_required
@require_http_methods(["GET", "POST"])
def verify_document(request, code):
    """What was filed under ``code`` — type, number, organisation, adoption, SHA-256, nothing personal —
    and, for an uploaded PDF, whether it is the filed one."""
    if _verify_rate_limited(request):
        return render(request, "meetings/verify.html", {"limited": True}, status=429)
    document = selectors.filed_document_by_code(code)
    context = {"document": document, "code": code.upper()}
    if request.method == "POST" and document is not None:
        upload = request.FILES.get("file")
        if upload is None:
            context["error"] = _("Hãy chọn tệp PDF cần đối chiếu.")
        elif upload.size > VERIFY_MAX_UPLOAD:
            context["error"] = _("Tệp lớn hơn 20 MB, không phải văn bản đã lưu.")
        else:
            context["matches"] = documents.sha256_of(upload.read()) == document.sha256
    return render(request, "meetings/verify.html", context, status=404 if document is None else 200)


# --- homes (issue #15) ------------------------------------------------------------------------


def my_home(request):
    """The member's home, phone first: the next meeting to answer, my tasks, the cell's conclusions."""
    from . import homes

    member = getattr(request.user, "member", None)
    if member is None:
        raise PermissionDenied
    return render(request, "meetings/home_member.html", {"member": member, **homes.member_home(member=member)})


def cell_home(request, cell_pk):
    """The secretary's home: this month's meeting as a checklist, and what else the cell owes."""
    from . import homes

    cell = selectors.get_cell_for_user_or_404(request.user, cell_pk, write=True)
    return render(request, "meetings/home_cell.html", homes.secretary_home(cell=cell))


@require_POST
def remind_rsvp(request, pk):
    meeting = selectors.get_meeting_for_user_or_404(request.user, pk, write=True)
    try:
        count = services.rsvp_remind(meeting=meeting, by=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(
            request,
            _("Đã nhắc %(count)s đảng viên chưa trả lời.") % {"count": count}
            if count
            else _("Mọi đảng viên đã trả lời."),
        )
    return redirect(_safe_next(request) or reverse("meetings:detail", args=[pk]))


@require_POST
def report_upward(request, pk):
    meeting = selectors.get_meeting_for_user_or_404(request.user, pk, write=True)
    try:
        services.meeting_report_upward(meeting=meeting, by=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("Đã gửi báo cáo cấp trên."))
    return redirect(_safe_next(request) or reverse("meetings:detail", args=[pk]))


def _safe_next(request) -> str:
    """The ``next`` page of a form posted from a home page, if it is one of ours."""
    from django.utils.http import url_has_allowed_host_and_scheme

    target = request.POST.get("next") or ""
    return target if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}) else ""


# --- before the meeting: absence requests, speaking, comments on the draft (issue #17 item 2) --------


def _own_member(request):
    member = getattr(request.user, "member", None)
    if member is None:
        raise PermissionDenied
    return member


@require_http_methods(["GET", "POST"])
def absence_request(request, pk):
    """A logged-in member asks to be excused from the meeting, and sees the answers to their requests."""
    meeting = selectors.get_meeting_for_user_or_404(request.user, pk)
    member = _own_member(request)
    form = AbsenceRequestForm(request.POST or None, request.FILES or None)
    return _form_page(
        request,
        form,
        lambda data: services.absence_request_file(meeting=meeting, member=member, by=request.user, **data),
        success=_("Đã gửi đơn xin vắng; đồng chí sẽ nhận được trả lời trong hộp thư và qua thư điện tử."),
        redirect_to=reverse("meetings:absence_request", args=[pk]),
        title=_("Xin vắng có lý do"),
        meeting=meeting,
        template="meetings/absence_request.html",
        extra={
            "requests": selectors.absence_requests_of(meeting, member=member),
            "open": selectors.before_meeting(meeting),
        },
    )


@login_not_required
@require_http_methods(["GET", "POST"])
def rsvp_absence(request, token):
    """The same request from the notice's one-click link, without logging in."""
    try:
        meeting, attendance = services.rsvp_read_token(token)
    except ValidationError as error:
        return render(request, "meetings/rsvp_absence.html", {"error": " ".join(error.messages)}, status=400)
    form = AbsenceRequestForm(request.POST or None, request.FILES or None)
    return form_cycle(
        request,
        form,
        lambda data: services.absence_request_file(meeting=meeting, member=attendance.member, **data),
        success=_("Đã gửi đơn xin vắng; đồng chí sẽ nhận được trả lời qua thư điện tử."),
        redirect_to=reverse("meetings:rsvp_absence", kwargs={"token": token}),
        template="meetings/rsvp_absence.html",
        context={
            "meeting": meeting,
            "attendance": attendance,
            "token": token,
            "open": selectors.before_meeting(meeting),
            "requests": selectors.absence_requests_of(meeting, member=attendance.member),
        },
    )


@require_POST
def absence_decide(request, pk, request_pk):
    """Accept or refuse a request: whoever records the meeting's attendance (the secretary, the clerk)."""
    meeting = selectors.get_meeting_for_user_or_404(request.user, pk, write=True, minutes=True)
    absence = get_object_or_404(meeting.absence_requests, pk=request_pk)
    form = AbsenceDecisionForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Chọn đồng ý hoặc không đồng ý cho vắng."))
        return redirect(reverse("meetings:detail", args=[pk]) + "#xin-vang")
    try:
        services.absence_request_decide(
            request=absence,
            accept=form.cleaned_data["decision"] == "accept",
            note=form.cleaned_data["note"],
            by=request.user,
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(
            request, _("Đã trả lời đơn xin vắng của đồng chí %(name)s.") % {"name": absence.member.full_name}
        )
    return redirect(reverse("meetings:detail", args=[pk]) + "#xin-vang")


@require_http_methods(["GET", "HEAD"])
def absence_evidence(request, pk, request_pk):
    """The evidence of a request: for the member who sent it and whoever decides it."""
    meeting = selectors.get_meeting_for_user_or_404(request.user, pk)
    absence = selectors.get_absence_request_or_404(request.user, meeting, request_pk)
    if not absence.evidence:
        raise Http404
    return FileResponse(absence.evidence.open("rb"), as_attachment=True, filename=absence.evidence_name)


@require_POST
def speak_request(request, pk, item_pk):
    """ "Xin phát biểu" on an agenda item, or withdraw it (the same button)."""
    meeting = selectors.get_meeting_for_user_or_404(request.user, pk)
    item = get_object_or_404(meeting.agenda_items, pk=item_pk)
    member = _own_member(request)
    try:
        registered = services.speak_request_toggle(item=item, member=member, by=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("Đã đăng ký phát biểu.") if registered else _("Đã rút đăng ký phát biểu."))
    return redirect(reverse("meetings:detail", args=[pk]) + "#chuong-trinh")


@require_http_methods(["GET", "POST"])
def draft_comment(request, pk):
    """A member's comment on the draft conclusion, before the meeting."""
    meeting = selectors.get_meeting_for_user_or_404(request.user, pk)
    member = _own_member(request)
    return _form_page(
        request,
        DraftCommentForm(request.POST or None),
        lambda data: services.draft_comment_add(meeting=meeting, member=member, by=request.user, **data),
        success=_("Đã gửi góp ý dự thảo kết luận."),
        redirect_to=reverse("meetings:detail", args=[pk]) + "#ket-luan",
        title=_("Góp ý dự thảo kết luận"),
        meeting=meeting,
        template="meetings/draft_comment.html",
        extra={
            "resolution": Resolution.objects.filter(meeting=meeting).first(),
            "comments": selectors.draft_comments_of(meeting, member=member),
            "open": selectors.before_meeting(meeting),
        },
    )


# --- online and hybrid meetings (issue #17 item 3) ------------------------------------------------


def _online_page(request, token, meeting, attendance, *, opinion_form=None, status=200):
    return render(
        request,
        "meetings/rsvp_online.html",
        {
            "meeting": meeting,
            "attendance": attendance,
            "token": token,
            "closed_reason": online.closed_reason(meeting),
            "window": online.window(meeting),
            "rows": selectors.online_room(meeting, attendance.member),
            "opinion_form": opinion_form or OnlineOpinionForm(),
            "opinions": meeting.opinions.filter(speaker=attendance.member, in_writing=True).select_related(
                "agenda_item"
            ),
            "vote_base": selectors.vote_base(meeting),
        },
        status=status,
    )


def _link_or_400(request, token):
    try:
        return services.rsvp_read_token(token)
    except ValidationError as error:
        raise _LinkError(
            render(request, "meetings/rsvp.html", {"error": " ".join(error.messages)}, status=400)
        ) from None


class _LinkError(Exception):
    def __init__(self, response):
        self.response = response


@login_not_required
@require_http_methods(["GET", "HEAD"])
def rsvp_online(request, token):
    """The member's page of an online or hybrid meeting, from their link: confirm presence with one tap, write
    an opinion on an item, vote on the questions the chair opened."""
    try:
        meeting, attendance = _link_or_400(request, token)
    except _LinkError as error:
        return error.response
    return _online_page(request, token, meeting, attendance)


def _online_redirect(token, anchor=""):
    return redirect(reverse("meetings:rsvp_online", args=[token]) + anchor)


@login_not_required
@require_POST
def rsvp_presence(request, token):
    try:
        _link_or_400(request, token)
    except _LinkError as error:
        return error.response
    try:
        attendance = services.online_presence_confirm(token=token)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(
            request,
            _("Đã ghi nhận đồng chí có mặt (%(presence)s).") % {"presence": attendance.get_presence_display().lower()},
        )
    return _online_redirect(token)


@login_not_required
@require_POST
def rsvp_opinion(request, token):
    try:
        meeting, attendance = _link_or_400(request, token)
    except _LinkError as error:
        return error.response
    form = OnlineOpinionForm(request.POST)
    if form.is_valid():
        try:
            services.online_opinion_add(
                token=token, agenda_item_id=form.cleaned_data["agenda_item"], text=form.cleaned_data["text"]
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Đã gửi ý kiến bằng văn bản; ý kiến sẽ được ghi vào biên bản."))
            return _online_redirect(token, "#y-kien")
    return _online_page(request, token, meeting, attendance, opinion_form=form)


@login_not_required
@require_POST
def rsvp_ballot(request, token, question_pk):
    try:
        _link_or_400(request, token)
    except _LinkError as error:
        return error.response
    try:
        ballot = services.ballot_cast(token=token, question_id=question_pk, choice=request.POST.get("choice", ""))
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(
            request,
            _(
                "Đã ghi biểu quyết của đồng chí: %(choice)s. Đồng chí có thể đổi ý cho đến khi chủ trì kết thúc biểu quyết."
            )
            % {"choice": ballot.get_choice_display()},
        )
    return _online_redirect(token, f"#bq-{question_pk}")


@require_http_methods(["GET", "POST"])
def online_votes(request, pk):
    """The chair's page of an online or hybrid meeting's votes: open a question on an item, see how many have
    voted (never how), close it; the meeting's quorum under QĐ 294 §9.3 is shown."""
    meeting = selectors.get_meeting_for_user_or_404(request.user, pk, write=True, minutes=True)
    form = OnlineVoteOpenForm(request.POST or None, meeting=meeting)
    # run_service, not form_cycle: the page's context (each question's count of voters, the vote base) is
    # queries, to be run only when the page is rendered, never before a redirect.
    if request.method == "POST" and form.is_valid():
        response = run_service(
            request,
            form,
            lambda data: services.vote_question_open(meeting=meeting, by=request.user, **data),
            success=_("Đã mở biểu quyết; đảng viên biểu quyết từ đường dẫn của mình."),
            redirect_to=reverse("meetings:online_votes", args=[pk]),
        )
        if response is not None:
            return response
    return render(
        request,
        "meetings/online_votes.html",
        {
            "meeting": meeting,
            "form": form,
            "questions": selectors.online_questions(meeting),
            "vote_base": selectors.vote_base(meeting),
            "closed_reason": online.closed_reason(meeting),
        },
    )


@require_POST
def online_vote_close(request, pk, question_pk):
    meeting = selectors.get_meeting_for_user_or_404(request.user, pk, write=True, minutes=True)
    question = get_object_or_404(meeting.vote_questions, pk=question_pk)
    try:
        vote = services.vote_question_close(question=question, by=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(
            request,
            _("Đã kết thúc biểu quyết: tán thành %(for)s/%(base)s, %(result)s.")
            % {
                "for": vote.votes_for,
                "base": vote.eligible_count,
                "result": _("thông qua") if vote.passed else _("không thông qua"),
            },
        )
    return redirect("meetings:online_votes", pk=pk)
