"""The conclusion reported upward (issue #19, finding 6): sent to the đảng ủy viên phụ trách and the bí thư
above at adoption, its date recorded and judged against 2 days after the meeting (seed §II; HD 42 repos)."""

import datetime

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from cells import services as cell_services
from cells.models import AuditEntry, Notification, Position
from meetings import homes, indicators, services
from meetings.models import Meeting, Resolution
from tests.factories import make_member

from .conftest import hold, plan

pytestmark = pytest.mark.django_db

TZ = timezone.get_current_timezone()


def _local(*args) -> datetime.datetime:
    return datetime.datetime(*args, tzinfo=TZ)


@pytest.fixture
def upper(tree, people):
    """Two đảng ủy viên phụ trách of the cell (members of other cells), with e-mail addresses."""
    supervisor = make_member(organisation=tree.sibling, full_name="Ngô Văn Phụ Trách", email="phutrach@example.vn")
    second = make_member(organisation=tree.sibling, full_name="Đỗ Thị Ủy Viên", email="uyvien@example.vn")
    start = datetime.date(2026, 1, 1)
    for member in (supervisor, second):
        cell_services.position_assign(member=member, organisation=tree.cell, kind=Position.Kind.SUPERVISOR, start=start)
    return type("Upper", (), {"supervisor": supervisor, "second": second})


def _adopted(tree, people, *, django_capture_on_commit_callbacks, time_machine, now):
    """A regular meeting planned and noticed three days before ``now``, held the day before it, adopted at ``now``."""
    time_machine.move_to(now - datetime.timedelta(days=3), tick=False)
    meeting = services.meeting_publish(
        meeting=plan(tree.cell, days=2, chair=people.members["secretary"], clerk=people.members["member"])
    )
    time_machine.move_to(now, tick=False)
    meeting = hold(meeting)
    services.resolution_set(meeting=meeting, kind=Resolution.Kind.CONCLUSION, text="Tập trung quyết toán năm.")
    with django_capture_on_commit_callbacks(execute=True):
        return services.meeting_adopt_minutes(meeting=meeting, by=people.secretary)


def test_adoption_reports_the_conclusion_to_the_supervisors_in_charge(
    tree, people, upper, time_machine, django_capture_on_commit_callbacks
):
    # Held on 07/12/2026 14:00–16:00 (local), adopted the next morning: due 16:00 on 09/12, in time.
    time_machine.move_to(_local(2026, 12, 5, 9, 0), tick=False)
    meeting = plan(tree.cell, days=2, chair=people.members["secretary"], clerk=people.members["member"])
    meeting = services.meeting_publish(meeting=meeting)
    time_machine.move_to(_local(2026, 12, 8, 9, 0), tick=False)
    meeting = hold(meeting)  # hold() moves it to yesterday, 07/12, 14:00–16:00
    services.resolution_set(meeting=meeting, kind=Resolution.Kind.CONCLUSION, text="Tập trung quyết toán năm.")
    with django_capture_on_commit_callbacks(execute=True):
        meeting = services.meeting_adopt_minutes(meeting=meeting, by=people.secretary)
    assert meeting.reported_up_at == _local(2026, 12, 8, 9, 0)
    assert meeting.reported_up_to.splitlines() == ["Ngô Văn Phụ Trách", "Đỗ Thị Ủy Viên"]
    assert indicators.report_up_due_at(meeting) == _local(2026, 12, 9, 16, 0)
    assert indicators.reported_up_in_time(meeting) is True
    sent = Notification.objects.filter(kind="meetings.report_upward")
    assert sorted(n.member.full_name for n in sent) == ["Ngô Văn Phụ Trách", "Đỗ Thị Ủy Viên"]
    assert all("Tập trung quyết toán năm." in n.body and "07/12/2026" in n.body for n in sent)
    assert {m.to[0] for m in mail.outbox if m.subject.startswith("Báo cáo cấp trên")} == {
        "phutrach@example.vn",
        "uyvien@example.vn",
    }
    assert AuditEntry.objects.filter(action="meetings.meeting.report_upward").count() == 1
    # The meeting page and the secretary's checklist say so.
    body = _detail(people, meeting)
    assert "Đã gửi lúc 09:00 ngày 08/12/2026" in body and "Đúng hạn" in body
    steps = {s["label"]: s for s in homes.secretary_home(cell=tree.cell)["steps"]}
    assert steps["Báo cáo cấp trên"]["state"] == "done"


def _detail(people, meeting):
    from django.test import Client

    client = Client()
    client.force_login(people.secretary, backend="django.contrib.auth.backends.ModelBackend")
    return client.get(reverse("meetings:detail", args=[meeting.pk])).content.decode()


def test_with_nobody_above_the_report_waits_then_goes_late_and_a_resend_keeps_the_first_date(
    tree, people, time_machine, django_capture_on_commit_callbacks, client_for
):
    # The meeting: 30/12 14:00–16:00, adopted at 23:30 on 31/12 (local).
    meeting = _adopted(
        tree,
        people,
        django_capture_on_commit_callbacks=django_capture_on_commit_callbacks,
        time_machine=time_machine,
        now=_local(2026, 12, 31, 23, 30),
    )
    assert meeting.reported_up_at is None and meeting.state == Meeting.State.MINUTES_ADOPTED
    assert indicators.report_up_due_at(meeting) == _local(2027, 1, 1, 16, 0)
    assert indicators.reported_up_in_time(meeting) is None  # 23:30 on 31/12: still in time
    steps = {s["label"]: s for s in homes.secretary_home(cell=tree.cell)["steps"]}
    assert steps["Báo cáo cấp trên"]["state"] == "todo"
    # Sending now, with nobody to receive it, is refused and writes nothing.
    response = client_for(people.secretary).post(reverse("meetings:report_upward", args=[meeting.pk]))
    assert response.status_code == 302
    meeting.refresh_from_db()
    assert meeting.reported_up_at is None
    assert not Notification.objects.filter(kind="meetings.report_upward").exists()
    # On 02/01/2027 it is late; the đảng ủy names a supervisor, the secretary sends it: recorded as late.
    time_machine.move_to(_local(2027, 1, 2, 8, 0), tick=False)
    assert indicators.reported_up_in_time(meeting) is False
    supervisor = make_member(organisation=tree.sibling, full_name="Ngô Văn Phụ Trách")
    cell_services.position_assign(
        member=supervisor, organisation=tree.cell, kind=Position.Kind.SUPERVISOR, start=datetime.date(2026, 12, 1)
    )
    client_for(people.secretary).post(reverse("meetings:report_upward", args=[meeting.pk]))
    meeting.refresh_from_db()
    assert meeting.reported_up_at == _local(2027, 1, 2, 8, 0)
    assert indicators.reported_up_in_time(meeting) is False
    assert "Chậm" in _detail(people, meeting)
    # Sending again a day later reaches them again but keeps the report's first date.
    time_machine.move_to(_local(2027, 1, 3, 8, 0), tick=False)
    services.meeting_report_upward(meeting=meeting, by=people.secretary)
    meeting.refresh_from_db()
    assert meeting.reported_up_at == _local(2027, 1, 2, 8, 0)
    assert Notification.objects.filter(kind="meetings.report_upward").count() == 2


def test_only_adopted_minutes_are_reported(tree, people, upper):
    meeting = hold(plan(tree.cell, days=3, chair=people.members["secretary"], clerk=people.members["member"]))
    with pytest.raises(Exception, match="sau khi biên bản đã được thông qua"):
        services.meeting_report_upward(meeting=meeting, by=people.secretary)
    meeting.refresh_from_db()
    assert meeting.reported_up_at is None


def test_a_supervisor_whose_post_ended_before_the_meeting_is_not_sent_it(
    tree, people, time_machine, django_capture_on_commit_callbacks
):
    former = make_member(organisation=tree.sibling, full_name="Cựu Phụ Trách")
    cell_services.position_assign(
        member=former, organisation=tree.cell, kind=Position.Kind.SUPERVISOR, start=datetime.date(2026, 1, 1)
    )
    Position.objects.filter(member=former).update(end=datetime.date(2026, 11, 30))
    meeting = _adopted(
        tree,
        people,
        django_capture_on_commit_callbacks=django_capture_on_commit_callbacks,
        time_machine=time_machine,
        now=_local(2026, 12, 8, 9, 0),
    )
    assert services.upward_recipients(meeting) == []
    assert meeting.reported_up_at is None
