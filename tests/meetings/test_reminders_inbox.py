"""The member's inbox (notices and reminders in the portal) with its unread count, and the e-mail preference."""

import pytest
from django.urls import reverse

from cells import services
from cells.models import AuditEntry, Notification


@pytest.fixture
def messages_for(people):
    def send(member, subject, **fields):
        [row] = services.notification_send(
            members=[member], kind="meetings.reminder.test", subject=subject, body=f"Nội dung: {subject}", **fields
        )
        return row

    return send


@pytest.mark.django_db
def test_member_sees_own_messages_with_the_unread_count(people, client_for, messages_for):
    member = people.members["member"]
    messages_for(member, "Nhắc xác nhận tham dự", url=reverse("meetings:my_tasks"))
    messages_for(member, "Nhiệm vụ đến hạn")
    messages_for(people.members["secretary"], "Thư của bí thư")
    page = client_for(people.member).get(reverse("inbox:inbox")).content.decode()
    assert "Nhắc xác nhận tham dự" in page and "Nhiệm vụ đến hạn" in page
    assert "Thư của bí thư" not in page
    assert "2 chưa đọc" in page
    assert '<span class="badge bg-warning text-dark">2</span>' in page  # the menu badge on every page


@pytest.mark.django_db
def test_opening_a_message_marks_it_read(people, client_for, messages_for):
    row = messages_for(people.members["member"], "Biên bản chưa được thông qua", url=reverse("meetings:my_tasks"))
    client = client_for(people.member)
    page = client.get(reverse("inbox:notification_detail", args=[row.pk])).content.decode()
    assert "Nội dung: Biên bản chưa được thông qua" in page
    assert reverse("meetings:my_tasks") in page
    assert Notification.objects.get(pk=row.pk).read_at is not None
    assert "chưa đọc" not in client.get(reverse("inbox:inbox")).content.decode()


@pytest.mark.django_db
def test_mark_all_read(people, client_for, messages_for):
    for subject in ("Một", "Hai"):
        messages_for(people.members["member"], subject)
    client = client_for(people.member)
    assert client.get(reverse("inbox:inbox_mark_all_read")).status_code == 405
    assert client.post(reverse("inbox:inbox_mark_all_read")).status_code == 302
    assert not Notification.objects.filter(read_at__isnull=True).exists()


@pytest.mark.django_db
def test_someone_elses_message_answers_404(people, client_for, messages_for):
    row = messages_for(people.members["secretary"], "Riêng của bí thư")
    response = client_for(people.member).get(reverse("inbox:notification_detail", args=[row.pk]))
    assert response.status_code == 404
    assert Notification.objects.get(pk=row.pk).read_at is None


@pytest.mark.django_db
def test_anonymous_user_is_sent_to_login(client):
    response = client.get(reverse("inbox:inbox"))
    assert response.status_code == 302 and reverse("login") in response["Location"]


@pytest.mark.django_db
def test_member_turns_optional_reminder_email_off_and_on(people, client_for):
    client = client_for(people.member)
    member = people.members["member"]
    assert (
        'name="optional_reminder_email" id="optional_reminder_email" checked'
        in client.get(reverse("inbox:inbox")).content.decode()
    )
    response = client.post(reverse("inbox:reminder_email_preference"), {}, follow=True)
    assert "Thông báo triệu tập sinh hoạt vẫn được gửi qua thư điện tử" in response.content.decode()
    member.refresh_from_db()
    assert member.optional_reminder_email is False
    assert AuditEntry.objects.filter(action="cells.member.reminder_email", object_id=str(member.pk)).exists()
    client.post(reverse("inbox:reminder_email_preference"), {"optional_reminder_email": "on"})
    member.refresh_from_db()
    assert member.optional_reminder_email is True


@pytest.mark.django_db
def test_user_without_member_record_has_an_inbox_but_no_preference(people, client_for):
    page = client_for(people.officer).get(reverse("inbox:inbox")).content.decode()
    assert "Chưa có thông báo nào." in page and "optional_reminder_email" not in page
    response = client_for(people.officer).post(reverse("inbox:reminder_email_preference"), follow=True)
    assert "chưa gắn với hồ sơ đảng viên" in response.content.decode()


@pytest.mark.django_db
def test_inbox_queries_do_not_grow_with_messages(people, client_for, messages_for, django_assert_max_num_queries):
    for i in range(25):
        messages_for(people.members["member"], f"Thông báo {i}")
    client = client_for(people.member)
    with django_assert_max_num_queries(12):
        assert client.get(reverse("inbox:inbox")).status_code == 200
