"""The member's own inbox: notices and reminders, the unread count, and the e-mail preference.

Everything here is the signed-in user's own: a message of someone else answers 404.
"""

from django.contrib import messages
from django.db.models import Q, QuerySet
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from lib.paging import page_of

from . import services
from .models import Notification


def notifications_of(user) -> QuerySet[Notification]:
    """The user's messages: addressed to their account or to their member record."""
    if not user.is_authenticated:
        return Notification.objects.none()
    member = getattr(user, "member", None)
    query = Q(recipient=user)
    if member is not None:
        query |= Q(member=member)
    return Notification.objects.filter(query)


def unread_count(user) -> int:
    return notifications_of(user).filter(read_at__isnull=True).count()


def inbox(request):
    notifications = notifications_of(request.user).order_by("-created_at", "-pk")
    page = page_of(request, notifications, 30)
    return render(
        request,
        "cells/inbox.html",
        {
            "page": page,
            "unread": unread_count(request.user),
            "member": getattr(request.user, "member", None),
        },
    )


def notification_detail(request, pk):
    notification = get_object_or_404(notifications_of(request.user), pk=pk)
    services.notification_mark_read(notification=notification)
    link = (
        notification.url
        if notification.url and url_has_allowed_host_and_scheme(notification.url, allowed_hosts={request.get_host()})
        else ""
    )
    return render(request, "cells/notification_detail.html", {"notification": notification, "link": link})


@require_GET
def notification_attachment(request, pk):
    """The file the message's e-mail carried (a meeting's invitation.ics: "add to calendar")."""
    notification = get_object_or_404(notifications_of(request.user), pk=pk)
    if not notification.attachment_name:
        raise Http404
    # Opened from the inbox, the file is a plain download: the iTIP method stays inside the file.
    mime_type = notification.attachment_type.split(";")[0].strip() or "application/octet-stream"
    response = HttpResponse(notification.attachment.encode("utf-8"), content_type=f"{mime_type}; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{notification.attachment_name}"'
    return response


@require_POST
def inbox_mark_all_read(request):
    notifications_of(request.user).filter(read_at__isnull=True).update(read_at=timezone.now())
    messages.success(request, _("Đã đánh dấu tất cả thông báo là đã đọc."))
    return redirect("inbox:inbox")


@require_POST
def reminder_email_preference(request):
    member = getattr(request.user, "member", None)
    if member is None:
        messages.error(request, _("Tài khoản chưa gắn với hồ sơ đảng viên."))
        return redirect("inbox:inbox")
    enabled = request.POST.get("optional_reminder_email") == "on"
    services.member_set_reminder_email(member=member, enabled=enabled, by=request.user)
    messages.success(
        request,
        _("Đã bật nhận thư điện tử cho các nhắc việc không bắt buộc.")
        if enabled
        else _(
            "Đã tắt thư điện tử cho các nhắc việc không bắt buộc. Thông báo triệu tập sinh hoạt "
            "vẫn được gửi qua thư điện tử."
        ),
    )
    return redirect("inbox:inbox")
