"""Calendars (issue #15 item 4): the month page of an organisation, the member's "Lịch của tôi"
page, and the personal iCalendar feed that calendar apps read without logging in."""

import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST, require_safe

from lib import query
from lib.dates import next_month, parse_month, previous_month
from lib.formatting import month_text

from . import calendar, selectors, services


@require_GET
def calendar_month(request, pk):
    """The month grid of an organisation's meetings (its whole subtree): ``?thang=MM/YYYY``."""
    organisation = selectors.get_calendar_organisation_for_user_or_404(request.user, pk)
    today = timezone.localdate()
    asked = query.value(request.GET, query.MONTH)
    years = {"first_year": calendar.FIRST_YEAR, "last_year": calendar.LAST_YEAR}
    first = parse_month(asked, **years) if asked else today.replace(day=1)
    error = ""
    if first is None:
        error = _('Tháng "%(value)s" không hợp lệ. Hãy ghi tháng/năm, ví dụ %(example)s.') % {
            "value": asked,
            "example": month_text(today.replace(day=1)),
        }
        first = today.replace(day=1)
    local = timezone.get_default_timezone()
    following = next_month(first)
    meetings = list(
        selectors.meetings_of_month(
            user=request.user,
            organisation=organisation,
            start=datetime.datetime.combine(first, datetime.time.min, tzinfo=local),
            end=datetime.datetime.combine(following, datetime.time.min, tzinfo=local),
        )
    )
    weeks = calendar.month_weeks(first, meetings, today=today)
    previous = previous_month(first)
    return render(
        request,
        "meetings/calendar_month.html",
        {
            "organisation": organisation,
            "first": first,
            "weeks": weeks,
            "meetings": meetings,
            "error": error,
            "asked": asked,
            "is_cell": organisation.kind in organisation.CELL_KINDS,
            "days": [day for week in weeks for day in week if day["in_month"] and day["meetings"]],
            "previous": month_text(previous) if previous.year >= calendar.FIRST_YEAR else "",
            "next": month_text(following) if following.year <= calendar.LAST_YEAR else "",
            "this_month": month_text(today.replace(day=1)),
        },
        status=400 if error else 200,
    )


def _member_or_403(request):
    member = getattr(request.user, "member", None)
    if member is None:
        raise PermissionDenied
    return member


def _feed_url(request, feed) -> str:
    return request.build_absolute_uri(reverse("meetings:calendar_feed", args=[feed.token]))


@require_GET
def calendar_settings(request):
    """ "Lịch của tôi": the member's secret calendar address and how to add it to a calendar app."""
    member = _member_or_403(request)
    feed = selectors.calendar_feed_of(member=member)
    url = _feed_url(request, feed) if feed else ""
    return render(
        request,
        "meetings/calendar_settings.html",
        {
            "member": member,
            "feed": feed,
            "feed_url": url,
            "webcal_url": "webcal://" + url.split("://", 1)[1] if url else "",
        },
    )


@require_POST
def calendar_feed_renew(request):
    member = _member_or_403(request)
    had_feed = selectors.calendar_feed_of(member=member) is not None
    services.calendar_feed_renew(member=member, by=request.user)
    messages.success(
        request,
        _("Đã tạo đường dẫn mới. Đường dẫn cũ không còn dùng được: hãy thay nó trong ứng dụng lịch của đồng chí.")
        if had_feed
        else _("Đã tạo đường dẫn lịch của đồng chí."),
    )
    return redirect("meetings:calendar_settings")


@require_POST
def calendar_feed_revoke(request):
    member = _member_or_403(request)
    if services.calendar_feed_revoke(member=member, by=request.user):
        messages.success(request, _("Đã tắt đường dẫn lịch. Ứng dụng lịch sẽ không nhận thêm buổi sinh hoạt nào."))
    return redirect("meetings:calendar_settings")


@login_not_required
@require_safe
def calendar_feed(request, token):
    """The member's feed, for calendar apps: no login, the secret address is the key; a wrong one 404s."""
    feed = selectors.get_calendar_feed_or_404(token)
    response = HttpResponse(calendar.member_feed(feed.member), content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="lich-sinh-hoat.ics"'
    response["X-Robots-Tag"] = "noindex"
    return response
