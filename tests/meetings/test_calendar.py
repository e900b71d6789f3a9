"""Calendars (issue #15 item 4): invitation.ics in the notices, the personal feed, the month page.

Every .ics is read back with the library's own parser (``icalendar.Calendar.from_ical``), the way a
calendar client would read it. The clock is fixed with time_machine: 01/12/2026 09:00 local.
"""

import datetime
import zoneinfo

import pytest
from django.core import mail
from django.urls import reverse
from icalendar import Calendar

from cells.models import AuditEntry, Member
from meetings import calendar, services
from meetings.models import CalendarFeed, Meeting
from tests.factories import UserFactory, make_member

pytestmark = pytest.mark.django_db

HCM = zoneinfo.ZoneInfo("Asia/Ho_Chi_Minh")
NOW = datetime.datetime(2026, 12, 1, 9, 0, tzinfo=HCM)


@pytest.fixture
def now(time_machine):
    time_machine.move_to(NOW, tick=False)
    return NOW


@pytest.fixture
def emailed(people):
    """The cell's two members with an e-mail address (a notice goes to each, one message each)."""
    for key, address in (("secretary", "bithu@example.vn"), ("member", "dangvien@example.vn")):
        Member.objects.filter(pk=people.members[key].pk).update(email=address)
        people.members[key].refresh_from_db()
    return people.members


@pytest.fixture
def sent(django_capture_on_commit_callbacks):
    """``sent(service, **kwargs)``: call a service and let its e-mails leave, as after a real commit."""

    def call(service, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return service(**kwargs)

    return call


def plan_on(cell, start: datetime.datetime, *, hours=2, kind=Meeting.Kind.REGULAR, **fields):
    fields.setdefault("place", "Phòng họp tầng 2, trụ sở Sở Tài chính")
    return services.meeting_create(
        organisation=cell,
        kind=kind,
        planned_start=start,
        planned_end=start + datetime.timedelta(hours=hours),
        period_month=start.date().replace(day=1),
        **fields,
    )


def read(text: str | bytes) -> Calendar:
    return Calendar.from_ical(text)


def invitation_of(message) -> tuple[str, str]:
    """(the attachment's Content-Type header, its text) of one sent e-mail, as the mail server gets it."""
    parts = [part for part in message.message().walk() if part.get_filename() == "invitation.ics"]
    assert len(parts) == 1, "one invitation.ics per e-mail"
    return parts[0]["Content-Type"], parts[0].get_payload(decode=True).decode("utf-8")


# --- the event and the invitation ------------------------------------------------------------


def test_invitation_round_trips_with_the_local_time_and_its_time_zone(tree, settings, now):
    settings.SITE_URL = "https://chibo.example.vn"
    meeting = plan_on(tree.cell, datetime.datetime(2026, 12, 15, 14, 0, tzinfo=HCM), topic="Chuyển đổi số")
    parsed = read(calendar.invitation(meeting))
    assert parsed["METHOD"] == "REQUEST"
    event = parsed.events[0]
    # Hand-checked: 14:00 in Asia/Ho_Chi_Minh (UTC+7) is 07:00 UTC; 16:00 is 09:00 UTC.
    assert event.start == datetime.datetime(2026, 12, 15, 14, 0, tzinfo=HCM)
    assert event.start.astimezone(datetime.UTC) == datetime.datetime(2026, 12, 15, 7, 0, tzinfo=datetime.UTC)
    assert event.end.astimezone(datetime.UTC) == datetime.datetime(2026, 12, 15, 9, 0, tzinfo=datetime.UTC)
    assert event["DTSTART"].params["TZID"] == "Asia/Ho_Chi_Minh"
    assert [tz["TZID"] for tz in parsed.walk("VTIMEZONE")] == ["Asia/Ho_Chi_Minh"]
    assert str(event["LOCATION"]) == "Phòng họp tầng 2, trụ sở Sở Tài chính"
    assert str(event["SUMMARY"]) == "Sinh hoạt thường kỳ — Chi bộ Văn phòng"
    assert "Chủ đề: Chuyển đổi số" in str(event["DESCRIPTION"])
    assert str(event["UID"]) == f"meeting-{meeting.pk}@chibo.example.vn"
    assert event["SEQUENCE"] == 0 and str(event["STATUS"]) == "CONFIRMED"
    assert str(event["URL"]) == f"https://chibo.example.vn/sinh-hoat/{meeting.pk}/"


def test_the_notice_email_carries_invitation_ics_with_method_request(tree, emailed, sent, now):
    meeting = plan_on(tree.cell, datetime.datetime(2026, 12, 15, 14, 0, tzinfo=HCM))
    mail.outbox.clear()
    sent(services.meeting_publish, meeting=meeting)
    assert sorted(m.to[0] for m in mail.outbox) == ["bithu@example.vn", "dangvien@example.vn"]
    for message in mail.outbox:
        content_type, text = invitation_of(message)
        assert content_type.startswith("text/calendar") and "method=REQUEST" in content_type
        parsed = read(text)
        assert parsed["METHOD"] == "REQUEST"
        event = parsed.events[0]
        assert str(event["UID"]).startswith(f"meeting-{meeting.pk}@")
        # The recipient is the event's attendee, and is not asked to reply by e-mail (the portal's link does it).
        assert str(event["ATTENDEE"]) == f"mailto:{message.to[0]}"
        assert event["ATTENDEE"].params["RSVP"] == "FALSE"
        # The RSVP link of the body is still there: the attachment is added to the notice, not in its place.
        assert "/sinh-hoat/xac-nhan/" in message.body


def test_a_changed_time_renotices_the_same_event_with_a_higher_sequence(tree, emailed, sent, now):
    meeting = sent(
        services.meeting_publish, meeting=plan_on(tree.cell, datetime.datetime(2026, 12, 15, 14, 0, tzinfo=HCM))
    )
    first = read(invitation_of(mail.outbox[-1])[1]).events[0]
    mail.outbox.clear()
    moved = datetime.datetime(2026, 12, 16, 8, 0, tzinfo=HCM)
    sent(services.meeting_update, meeting=meeting, planned_start=moved, planned_end=moved + datetime.timedelta(hours=2))
    assert len(mail.outbox) == 2
    second = read(invitation_of(mail.outbox[0])[1])
    assert second["METHOD"] == "REQUEST"
    event = second.events[0]
    assert event["UID"] == first["UID"]
    assert event["SEQUENCE"] > first["SEQUENCE"]
    assert event.start.astimezone(datetime.UTC) == datetime.datetime(2026, 12, 16, 1, 0, tzinfo=datetime.UTC)
    # A change that is not the time or the place sends nothing and leaves the sequence alone.
    mail.outbox.clear()
    sent(services.meeting_update, meeting=meeting, topic="Học tập Nghị quyết")
    assert mail.outbox == []
    assert Meeting.objects.get(pk=meeting.pk).calendar_sequence == event["SEQUENCE"]


def test_cancelling_sends_method_cancel_for_the_same_event(tree, emailed, sent, now):
    meeting = sent(
        services.meeting_publish, meeting=plan_on(tree.cell, datetime.datetime(2026, 12, 15, 14, 0, tzinfo=HCM))
    )
    notice = read(invitation_of(mail.outbox[-1])[1]).events[0]
    mail.outbox.clear()
    sent(services.meeting_cancel, meeting=meeting, reason="Trùng lịch hội nghị của tỉnh")
    assert len(mail.outbox) == 2
    content_type, text = invitation_of(mail.outbox[0])
    assert "method=CANCEL" in content_type
    parsed = read(text)
    assert parsed["METHOD"] == "CANCEL"
    event = parsed.events[0]
    assert event["UID"] == notice["UID"] and event["SEQUENCE"] > notice["SEQUENCE"]
    assert str(event["STATUS"]) == "CANCELLED"


def test_a_draft_cancelled_before_any_notice_sends_no_cancellation(tree, emailed, sent, now):
    meeting = plan_on(tree.cell, datetime.datetime(2026, 12, 15, 14, 0, tzinfo=HCM))
    sent(services.meeting_cancel, meeting=meeting, reason="Lập nhầm")
    assert mail.outbox == []
    assert Meeting.objects.get(pk=meeting.pk).calendar_sequence == 0


def test_the_outbox_sweep_resends_the_same_attachment(tree, emailed, sent, now):
    """The attachment is stored on the inbox row: a retry sends exactly what the notice composed."""
    from cells import services as cell_services
    from cells.models import Notification

    sent(services.meeting_publish, meeting=plan_on(tree.cell, datetime.datetime(2026, 12, 15, 14, 0, tzinfo=HCM)))
    row = Notification.objects.get(kind="meetings.notice", email="dangvien@example.vn")
    assert row.attachment_name == "invitation.ics" and row.attachment_type.startswith("text/calendar; method=REQUEST")
    first = invitation_of(next(m for m in mail.outbox if m.to == ["dangvien@example.vn"]))[1]
    Notification.objects.filter(pk=row.pk).update(email_sent_at=None, email_error="")
    mail.outbox.clear()
    assert cell_services.notification_deliver_email(notification_id=row.pk)
    assert invitation_of(mail.outbox[0])[1] == first


# --- the personal feed ---------------------------------------------------------------------


def feed_url(feed: CalendarFeed) -> str:
    return reverse("meetings:calendar_feed", args=[feed.token])


def test_renewing_the_feed_revokes_the_old_address(client, people, tree, now):
    member = people.members["member"]
    old = services.calendar_feed_renew(member=member, by=people.member)
    old_url = feed_url(old)
    assert client.get(old_url).status_code == 200
    new = services.calendar_feed_renew(member=member, by=people.member)
    assert new.token != old.token and CalendarFeed.objects.filter(member=member).count() == 1
    assert client.get(old_url).status_code == 404
    response = client.get(feed_url(new))
    assert response.status_code == 200 and response["Content-Type"].startswith("text/calendar")
    assert response["Cache-Control"] == "private, no-store"
    read(response.content)
    entries = AuditEntry.objects.filter(object_type="meetings.calendarfeed").order_by("pk")
    assert [e.action for e in entries] == ["meetings.calendar_feed.create", "meetings.calendar_feed.renew"]
    assert not any(old.token in str(e.after) or new.token in str(e.after) for e in entries), "never log the secret"


def test_an_unknown_or_revoked_token_answers_404(client, people, now):
    assert client.get(reverse("meetings:calendar_feed", args=["khong-co-that"])).status_code == 404
    feed = services.calendar_feed_renew(member=people.members["member"])
    assert services.calendar_feed_revoke(member=people.members["member"]) is True
    assert client.get(feed_url(feed)).status_code == 404


def test_a_deactivated_account_loses_its_feed(client, people, now):
    feed = services.calendar_feed_renew(member=people.members["member"])
    people.member.is_active = False
    people.member.save(update_fields=["is_active"])
    assert client.get(feed_url(feed)).status_code == 404


def test_a_feed_shows_only_the_meetings_its_member_is_summoned_to(client, people, tree, now):
    member, neighbour = people.members["member"], people.members["sibling"]
    own = services.meeting_publish(meeting=plan_on(tree.cell, datetime.datetime(2026, 12, 15, 14, 0, tzinfo=HCM)))
    services.meeting_publish(meeting=plan_on(tree.sibling, datetime.datetime(2026, 12, 16, 14, 0, tzinfo=HCM)))
    draft = plan_on(tree.cell, datetime.datetime(2026, 12, 20, 8, 0, tzinfo=HCM), kind=Meeting.Kind.THEMATIC)
    cancelled = services.meeting_publish(
        meeting=plan_on(tree.cell, datetime.datetime(2026, 12, 22, 8, 0, tzinfo=HCM), kind=Meeting.Kind.EXTRAORDINARY)
    )
    services.meeting_cancel(meeting=cancelled, reason="Hoãn")
    # Three months back from 01/12/2026 is 01/09/2026: a meeting of 31/08 has dropped out, one of 01/09 not.
    old = services.meeting_publish(
        meeting=plan_on(tree.cell, datetime.datetime(2026, 12, 10, 8, 0, tzinfo=HCM), kind=Meeting.Kind.THEMATIC)
    )
    older = services.meeting_publish(
        meeting=plan_on(tree.cell, datetime.datetime(2026, 12, 11, 8, 0, tzinfo=HCM), kind=Meeting.Kind.FORUM)
    )
    Meeting.objects.filter(pk=old.pk).update(
        planned_start=datetime.datetime(2026, 9, 1, 8, 0, tzinfo=HCM),
        planned_end=datetime.datetime(2026, 9, 1, 10, 0, tzinfo=HCM),
    )
    Meeting.objects.filter(pk=older.pk).update(
        planned_start=datetime.datetime(2026, 8, 31, 8, 0, tzinfo=HCM),
        planned_end=datetime.datetime(2026, 8, 31, 10, 0, tzinfo=HCM),
    )

    mine = read(client.get(feed_url(services.calendar_feed_renew(member=member))).content)
    uids = {str(event["UID"]).split("@")[0]: event for event in mine.events}
    assert set(uids) == {f"meeting-{own.pk}", f"meeting-{cancelled.pk}", f"meeting-{old.pk}"}
    assert f"meeting-{draft.pk}" not in uids and f"meeting-{older.pk}" not in uids
    assert str(uids[f"meeting-{cancelled.pk}"]["STATUS"]) == "CANCELLED"
    assert str(uids[f"meeting-{own.pk}"]["STATUS"]) == "CONFIRMED"
    assert mine["X-WR-CALNAME"] == "Lịch sinh hoạt chi bộ — Lê Văn Đảng Viên"

    # The member of the sibling cell (with an account of their own) reads only their own cell's meeting.
    neighbour.user = UserFactory(username="ketoan")
    neighbour.save(update_fields=["user"])
    theirs = read(client.get(feed_url(services.calendar_feed_renew(member=neighbour))).content)
    assert [str(event["SUMMARY"]) for event in theirs.events] == ["Sinh hoạt thường kỳ — Chi bộ Kế toán"]


def test_months_before_keeps_the_day_or_the_months_last_day():
    assert calendar.months_before(datetime.date(2026, 12, 1), 3) == datetime.date(2026, 9, 1)
    assert calendar.months_before(datetime.date(2026, 2, 15), 3) == datetime.date(2025, 11, 15)
    assert calendar.months_before(datetime.date(2028, 5, 31), 3) == datetime.date(2028, 2, 29)
    assert calendar.months_before(datetime.date(2027, 5, 31), 3) == datetime.date(2027, 2, 28)


def test_the_feed_answers_in_a_fixed_number_of_queries(client, people, tree, now, django_assert_max_num_queries):
    feed = services.calendar_feed_renew(member=people.members["member"])

    def publish(count, first_day):
        for n in range(count):
            start = datetime.datetime(2026, 12, first_day + n, 14, 0, tzinfo=HCM)
            services.meeting_publish(meeting=plan_on(tree.cell, start, kind=Meeting.Kind.THEMATIC))

    publish(1, 2)
    with django_assert_max_num_queries(2):
        assert len(read(client.get(feed_url(feed)).content).events) == 1
    publish(6, 10)
    with django_assert_max_num_queries(2):
        assert len(read(client.get(feed_url(feed)).content).events) == 7


# --- "Lịch của tôi" ------------------------------------------------------------------------


def test_my_calendar_page_creates_shows_and_renews_the_address(client_for, people, now):
    client = client_for(people.member)
    page = client.get(reverse("meetings:calendar_settings"))
    assert page.status_code == 200 and "Tạo đường dẫn lịch" in page.content.decode()
    assert client.post(reverse("meetings:calendar_feed_renew")).status_code == 302
    feed = CalendarFeed.objects.get(member=people.members["member"])
    page = client.get(reverse("meetings:calendar_settings")).content.decode()
    assert f"/sinh-hoat/lich/{feed.token}.ics" in page
    assert "Google Lịch" in page and "Outlook" in page and "iPhone" in page and "Tạo đường dẫn mới" in page
    assert f"webcal://testserver/sinh-hoat/lich/{feed.token}.ics" in page
    client.post(reverse("meetings:calendar_feed_renew"))
    assert CalendarFeed.objects.get(member=people.members["member"]).token != feed.token
    client.post(reverse("meetings:calendar_feed_revoke"))
    assert not CalendarFeed.objects.exists()


def test_my_calendar_is_in_the_user_menu_of_a_member(client_for, people, now):
    page = client_for(people.member).get(reverse("meetings:my_tasks")).content.decode()
    assert reverse("meetings:calendar_settings") in page


# --- the month page ------------------------------------------------------------------------


def month_page(client, organisation, month=""):
    url = reverse("meetings:calendar_month", args=[organisation.pk])
    return client.get(url, {"thang": month} if month else None)


def test_the_month_shows_a_meeting_on_its_day_and_links_it(client_for, people, tree, now):
    meeting = plan_on(tree.cell, datetime.datetime(2026, 12, 15, 14, 0, tzinfo=HCM))
    response = month_page(client_for(people.secretary), tree.cell)
    assert response.status_code == 200
    weeks = response.context["weeks"]
    day = next(d for week in weeks for d in week if d["day"] == datetime.date(2026, 12, 15))
    assert [m.pk for m in day["meetings"]] == [meeting.pk]
    # December 2026 starts on a Tuesday: the first row begins on Monday 30/11, the last ends on Sunday 03/01.
    assert weeks[0][0]["day"] == datetime.date(2026, 11, 30) and weeks[-1][-1]["day"] == datetime.date(2027, 1, 3)
    html = response.content.decode()
    assert reverse("meetings:detail", args=[meeting.pk]) in html
    assert "?thang=11/2026" in html and "?thang=01/2027" in html


def test_december_leads_to_january_and_back(client_for, people, tree, now):
    client = client_for(people.secretary)
    # 06:30 on 01/01/2027 local is 23:30 UTC on 31/12/2026: it belongs to January's first day.
    new_year = plan_on(tree.cell, datetime.datetime(2027, 1, 1, 6, 30, tzinfo=HCM), kind=Meeting.Kind.THEMATIC)
    december = month_page(client, tree.cell, "12/2026")
    assert new_year not in december.context["meetings"]
    january = month_page(client, tree.cell, "01/2027")
    assert january.context["first"] == datetime.date(2027, 1, 1)
    assert [m.pk for m in january.context["meetings"]] == [new_year.pk]
    first_day = next(d for week in january.context["weeks"] for d in week if d["day"] == datetime.date(2027, 1, 1))
    assert [m.pk for m in first_day["meetings"]] == [new_year.pk]
    html = january.content.decode()
    assert "?thang=12/2026" in html and "?thang=02/2027" in html


def test_february_2028_has_29_days(client_for, people, tree, now):
    leap = plan_on(tree.cell, datetime.datetime(2028, 2, 29, 8, 0, tzinfo=HCM))
    response = month_page(client_for(people.secretary), tree.cell, "02/2028")
    days = [d["day"] for week in response.context["weeks"] for d in week if d["in_month"]]
    assert len(days) == 29 and days[-1] == datetime.date(2028, 2, 29)
    last = next(d for week in response.context["weeks"] for d in week if d["day"] == datetime.date(2028, 2, 29))
    assert [m.pk for m in last["meetings"]] == [leap.pk]
    assert "?thang=01/2028" in response.content.decode() and "?thang=03/2028" in response.content.decode()


def test_a_bad_month_is_refused_with_a_clear_message(client_for, people, tree, now):
    response = month_page(client_for(people.secretary), tree.cell, "13/2026")
    assert response.status_code == 400
    html = response.content.decode()
    assert "không hợp lệ" in html and "12/2026" in html  # the example is this month
    assert response.context["first"] == datetime.date(2026, 12, 1)


def test_the_month_is_today_s_month_on_its_last_evening(client_for, people, tree, time_machine):
    # 23:30 on 31/12/2026 local (16:30 UTC): still December.
    time_machine.move_to(datetime.datetime(2026, 12, 31, 23, 30, tzinfo=HCM), tick=False)
    response = month_page(client_for(people.secretary), tree.cell)
    assert response.context["first"] == datetime.date(2026, 12, 1)
    today = [d for week in response.context["weeks"] for d in week if d["today"]]
    assert [d["day"] for d in today] == [datetime.date(2026, 12, 31)]


def test_cancelled_meetings_are_struck_through(client_for, people, tree, now):
    meeting = plan_on(tree.cell, datetime.datetime(2026, 12, 15, 14, 0, tzinfo=HCM))
    services.meeting_cancel(meeting=meeting, reason="Hoãn")
    html = month_page(client_for(people.secretary), tree.cell).content.decode()
    assert "<del><strong>14:00</strong>" in html and "Đã hủy" in html


def test_the_subtree_month_shows_its_cells_and_nothing_else(client_for, people, tree, now):
    own = plan_on(tree.cell, datetime.datetime(2026, 12, 15, 14, 0, tzinfo=HCM))
    sibling = plan_on(tree.sibling, datetime.datetime(2026, 12, 15, 8, 0, tzinfo=HCM))
    plan_on(tree.other, datetime.datetime(2026, 12, 15, 9, 0, tzinfo=HCM))
    response = month_page(client_for(people.officer), tree.tccs)
    assert [m.pk for m in response.context["meetings"]] == [sibling.pk, own.pk]
    html = response.content.decode()
    assert "Chi bộ Kế toán" in html and "Chi bộ Công ty Điện lực" not in html


def test_a_member_sees_the_published_meetings_of_their_cell_only(client_for, people, tree, now):
    published = services.meeting_publish(meeting=plan_on(tree.cell, datetime.datetime(2026, 12, 15, 14, 0, tzinfo=HCM)))
    plan_on(tree.cell, datetime.datetime(2026, 12, 18, 14, 0, tzinfo=HCM), kind=Meeting.Kind.THEMATIC)  # a draft
    client = client_for(people.member)
    assert [m.pk for m in month_page(client, tree.cell).context["meetings"]] == [published.pk]
    assert month_page(client, tree.tccs).status_code == 404
    assert month_page(client, tree.other).status_code == 404


def test_the_month_page_answers_in_a_fixed_number_of_queries(
    client_for, people, tree, now, django_assert_max_num_queries
):
    client = client_for(people.officer)
    for day in (3, 4):
        plan_on(tree.cell, datetime.datetime(2026, 12, day, 14, 0, tzinfo=HCM), kind=Meeting.Kind.THEMATIC)
    month_page(client, tree.tccs)  # warm the session
    with django_assert_max_num_queries(8) as few:
        month_page(client, tree.tccs)
    for day in range(7, 20):
        cell = tree.cell if day % 2 else tree.sibling
        plan_on(cell, datetime.datetime(2026, 12, day, 14, 0, tzinfo=HCM), kind=Meeting.Kind.THEMATIC)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert len(month_page(client, tree.tccs).context["meetings"]) == 15


def test_the_calendar_is_linked_from_the_meeting_list_and_the_dashboard(client_for, people, tree, now):
    client = client_for(people.officer)
    assert (
        reverse("meetings:calendar_month", args=[tree.cell.pk])
        in client.get(reverse("meetings:cell_list", args=[tree.cell.pk])).content.decode()
    )
    assert (
        reverse("meetings:calendar_month", args=[tree.tccs.pk])
        in client.get(reverse("reports:dashboard", args=[tree.tccs.pk])).content.decode()
    )


def test_an_exempt_member_s_feed_leaves_out_the_meetings_they_are_exempt_from(tree, people, now):
    """Exempt members get no notice (they are not summoned), and so no event either."""
    from cells.services import member_exempt

    newcomer = make_member(organisation=tree.cell, full_name="Đỗ Thị Mới Vào")
    elder = make_member(organisation=tree.cell, full_name="Vũ Văn Cao Tuổi")
    member_exempt(member=elder, reason="Tuổi cao", start=datetime.date(2026, 1, 1))
    meeting = services.meeting_publish(meeting=plan_on(tree.cell, datetime.datetime(2026, 12, 15, 14, 0, tzinfo=HCM)))
    assert [str(event["UID"]) for event in read(calendar.member_feed(newcomer)).events] == [calendar.event_uid(meeting)]
    assert read(calendar.member_feed(elder)).events == []


def test_the_inbox_notice_offers_its_invitation_as_add_to_calendar(client_for, tree, people, sent, now):
    from cells.models import Notification

    meeting = sent(
        services.meeting_publish, meeting=plan_on(tree.cell, datetime.datetime(2026, 12, 15, 14, 0, tzinfo=HCM))
    )
    notice = Notification.objects.get(kind="meetings.notice", member=people.members["member"])
    client = client_for(people.member)
    page = client.get(reverse("inbox:notification_detail", args=[notice.pk])).content.decode()
    download = reverse("inbox:notification_attachment", args=[notice.pk])
    assert download in page and "Thêm vào lịch (tệp .ics)" in page
    response = client.get(download)
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="invitation.ics"'
    assert read(response.content).events[0]["UID"] == calendar.event_uid(meeting)
    # The secretary's own notice is hers alone.
    theirs = Notification.objects.get(kind="meetings.notice", member=people.members["secretary"])
    assert client.get(reverse("inbox:notification_attachment", args=[theirs.pk])).status_code == 404


def test_the_admin_lists_feeds_without_their_token_and_turns_one_off(client_for, people, now):
    feed = services.calendar_feed_renew(member=people.members["member"])
    admin_user = UserFactory(username="quantri", is_staff=True, is_superuser=True)
    client = client_for(admin_user)
    changelist = reverse("admin:meetings_calendarfeed_changelist")
    page = client.get(changelist).content.decode()
    assert "Lê Văn Đảng Viên" in page and feed.token not in page
    assert feed.token not in client.get(reverse("admin:meetings_calendarfeed_change", args=[feed.pk])).content.decode()
    client.post(changelist, {"action": "revoke", "_selected_action": [feed.pk]})
    assert not CalendarFeed.objects.exists()
    assert AuditEntry.objects.filter(action="meetings.calendar_feed.revoke", actor=admin_user).count() == 1
