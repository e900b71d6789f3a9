"""Training of bí thư and chi ủy viên (issue #18, item 5): the rule of cells/training.py on hand-worked dates,
who sees which officers and courses, and the course and attendance forms."""

import datetime

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from cells import services, training
from cells.models import AuditEntry, CourseAttendance, Organisation, Position, TrainingCourse
from tests.factories import UserFactory, grant, make_member, make_organisation

pytestmark = pytest.mark.django_db

D = datetime.date
APPOINTED = D(2025, 3, 15)
COURSE_START, COURSE_END = D(2025, 6, 2), D(2025, 6, 6)


def at(day: datetime.date):
    """Pin the clock at 10:00 local time on ``day``."""
    return time_machine.travel(timezone.make_aware(datetime.datetime.combine(day, datetime.time(10, 0))), tick=False)


def course(organiser, *, start=COURSE_START, end=COURSE_END, kind=TrainingCourse.Kind.OFFICER, **fields):
    fields.setdefault("title", "Bồi dưỡng nghiệp vụ công tác đảng năm 2025")
    return services.course_create(organiser=organiser, start_date=start, end_date=end, kind=kind, **fields)


def post(member, organisation, kind=Position.Kind.SECRETARY, start=APPOINTED):
    return services.position_assign(member=member, organisation=organisation, kind=kind, start=start)


def listed(organisation, on):
    subtree = Organisation.objects.filter(path__startswith=organisation.path)
    return {(row.position.member.full_name, row.state) for row in training.officers_due(organisations=subtree, on=on)}


# --- the rule on hand-worked dates ---------------------------------------------------------------


def test_the_deadline_is_twelve_months_after_taking_the_post_and_that_day_is_still_in_time():
    assert training.TRAINING_DEADLINE_MONTHS == 12 and training.DUE_SOON_DAYS == 60
    assert training.deadline(APPOINTED) == D(2026, 3, 15)
    assert training.deadline(D(2025, 2, 28)) == D(2026, 2, 28)
    assert training.deadline(D(2024, 2, 29)) == D(2025, 2, 28)  # the month's last day when it is shorter

    def state(on, trained_on=()):
        return training.state_on(start=APPOINTED, trained_on=list(trained_on), on=on)

    assert state(D(2026, 3, 15)) == training.DUE_SOON  # the deadline day itself: not overdue yet
    assert state(D(2026, 3, 16)) == training.OVERDUE
    # 15/03/2026 − 60 days = 14/01/2026 (17 days of January, 28 of February, 15 of March)
    assert state(D(2026, 1, 14)) == training.DUE_SOON
    assert state(D(2026, 1, 13)) == training.IN_TIME
    # a course that ended on the day of taking the post counts; one the day before does not
    assert state(D(2026, 3, 16), [APPOINTED]) == training.TRAINED
    assert state(D(2026, 3, 16), [APPOINTED - datetime.timedelta(days=1)]) == training.OVERDUE
    # a course ending after the day asked about does not count yet
    assert state(D(2026, 3, 16), [D(2026, 3, 20)]) == training.OVERDUE


def test_the_list_on_the_day_after_the_deadline(tree, people):
    secretary = people.members["secretary"]
    member = people.members["member"]
    trained = make_member(organisation=tree.cell, full_name="Đỗ Văn Đã Học")
    ended = make_member(organisation=tree.sibling, full_name="Vũ Thị Đã Thôi")
    before = make_member(organisation=tree.sibling, full_name="Bùi Văn Học Trước")
    post(secretary, tree.cell)
    post(member, tree.cell, Position.Kind.COMMITTEE_MEMBER)
    post(trained, tree.cell, Position.Kind.DEPUTY_SECRETARY)
    services.position_end(position=post(ended, tree.sibling), on=D(2026, 1, 31))
    post(before, tree.sibling, Position.Kind.COMMITTEE_MEMBER, start=D(2025, 7, 1))
    khoi_course = course(tree.khoi)  # 02–06/06/2025: after APPOINTED, before 01/07/2025
    services.attendance_add(course=khoi_course, member=trained, completed=True, certificate_number="CN-01")
    services.attendance_add(course=khoi_course, member=before, completed=True)
    other = course(tree.khoi, kind=TrainingCourse.Kind.OTHER, title="Tập huấn phần mềm")
    services.attendance_add(course=other, member=member, completed=True)  # not a qualifying kind

    assert listed(tree.khoi, D(2026, 3, 16)) == {
        ("Trần Thị Bí Thư", training.OVERDUE),
        ("Lê Văn Đảng Viên", training.OVERDUE),  # a chi ủy viên is included
        # appointed 01/07/2025: due 01/07/2026, more than 60 days away; the June course was before the post
    }
    assert listed(tree.khoi, D(2026, 3, 15)) == {
        ("Trần Thị Bí Thư", training.DUE_SOON),
        ("Lê Văn Đảng Viên", training.DUE_SOON),
    }  # the bí thư whose post ended on 31/01/2026 is not listed on either day
    # 02/05/2026 is 60 days before 01/07/2026: the member trained before his post is now due soon
    assert ("Bùi Văn Học Trước", training.DUE_SOON) in listed(tree.khoi, D(2026, 5, 2))
    assert ("Bùi Văn Học Trước", training.DUE_SOON) not in listed(tree.khoi, D(2026, 5, 1))


def test_a_course_completed_later_takes_the_officer_off_the_list(tree, people):
    post(people.members["secretary"], tree.cell)
    late = course(tree.tccs, start=D(2026, 4, 1), end=D(2026, 4, 3))
    with at(D(2026, 4, 10)):
        services.attendance_add(course=late, member=people.members["secretary"], completed=True)
    assert listed(tree.khoi, D(2026, 4, 2)) == {("Trần Thị Bí Thư", training.OVERDUE)}
    assert listed(tree.khoi, D(2026, 4, 3)) == set()


def test_the_page_lists_the_overdue_secretary_with_her_dates(tree, people, client_for):
    post(people.members["secretary"], tree.cell)
    with at(D(2026, 3, 16)):
        response = client_for(people.admin).get(reverse("training:officers_untrained", args=[tree.khoi.pk]))
    assert response.status_code == 200
    rows = response.context["rows"]
    assert [(r.position.member.full_name, r.deadline, r.state) for r in rows] == [
        ("Trần Thị Bí Thư", D(2026, 3, 15), training.OVERDUE)
    ]
    text = response.content.decode()
    assert "Trần Thị Bí Thư" in text and "15/03/2025" in text and "15/03/2026" in text and "Quá hạn" in text
    with at(D(2026, 3, 15)):
        response = client_for(people.admin).get(reverse("training:officers_untrained", args=[tree.khoi.pk]))
    assert "Sắp đến hạn" in response.content.decode() and "Quá hạn: 0" in response.content.decode()


# --- who sees what ---------------------------------------------------------------------------------


def test_a_dang_uy_officer_sees_only_his_subtree_and_a_secretary_is_refused(tree, people, client_for):
    post(people.members["secretary"], tree.cell)
    post(people.members["other"], tree.other)
    with at(D(2026, 3, 16)):
        client = client_for(people.officer)
        response = client.get(reverse("training:officers_untrained", args=[tree.tccs.pk]))
        assert response.status_code == 200
        assert [r.position.member.full_name for r in response.context["rows"]] == ["Trần Thị Bí Thư"]
        assert client.get(reverse("training:officers_untrained", args=[tree.other.pk])).status_code == 404
        assert client.get(reverse("training:officers_untrained", args=[tree.khoi.pk])).status_code == 404
        admin = client_for(people.admin).get(reverse("training:officers_untrained", args=[tree.khoi.pk]))
        assert {r.position.member.full_name for r in admin.context["rows"]} == {"Trần Thị Bí Thư", "Hoàng Thị Điện Lực"}
        secretary = client_for(people.secretary)
        assert secretary.get(reverse("training:officers_untrained", args=[tree.cell.pk])).status_code == 403
        assert secretary.get(reverse("training:course_list")).status_code == 403


def test_courses_an_officer_sees_and_runs(tree, people, client_for):
    other_tccs = make_organisation(parent=tree.khoi, kind=Organisation.Kind.DANG_BO_CO_SO, name="Đảng bộ Sở Y tế")
    own, khoi_course, foreign = course(tree.tccs), course(tree.khoi), course(other_tccs)
    client = client_for(people.officer)
    response = client.get(reverse("training:course_list"))
    assert {c.pk for c in response.context["courses"]} == {own.pk, khoi_course.pk}
    assert client.get(reverse("training:course_detail", args=[khoi_course.pk])).status_code == 200
    assert client.get(reverse("training:course_update", args=[khoi_course.pk])).status_code == 403
    assert client.get(reverse("training:course_update", args=[own.pk])).status_code == 200
    assert client.get(reverse("training:course_detail", args=[foreign.pk])).status_code == 404
    # his create form offers his đảng bộ only
    form = client.get(reverse("training:course_create")).context["form"]
    assert list(form.fields["organiser"].queryset) == [tree.tccs]


# --- forms and services -----------------------------------------------------------------------


def test_a_course_ending_before_it_starts_is_refused_and_nothing_is_saved(tree, people, client_for):
    client = client_for(people.admin)
    audits = AuditEntry.objects.count()
    response = client.post(
        reverse("training:course_create"),
        {
            "organiser": tree.khoi.pk,
            "title": "Lớp bí thư",
            "kind": "officer",
            "start_date": "10/06/2025",
            "end_date": "09/06/2025",
        },
    )
    assert response.status_code == 200
    assert "Ngày kết thúc phải từ ngày bắt đầu (10/06/2025) trở đi." in response.context["form"].errors["end_date"]
    assert not TrainingCourse.objects.exists() and AuditEntry.objects.count() == audits
    response = client.post(
        reverse("training:course_create"),
        {
            "organiser": tree.khoi.pk,
            "title": "Lớp bí thư",
            "kind": "officer",
            "start_date": "09/06/2025",
            "end_date": "10/06/2025",
            "place": "Hội trường Đảng ủy Khối",
        },
    )
    saved = TrainingCourse.objects.get()
    assert response.status_code == 302 and response.url == reverse("training:course_detail", args=[saved.pk])
    assert (saved.start_date, saved.end_date, saved.organiser) == (D(2025, 6, 9), D(2025, 6, 10), tree.khoi)
    assert AuditEntry.objects.filter(action="cells.training_course.create", object_id=str(saved.pk)).exists()
    # editing it with the end before the start is refused too, and changes nothing
    response = client.post(
        reverse("training:course_update", args=[saved.pk]),
        {"title": "Đổi tên", "kind": "officer", "start_date": "09/06/2025", "end_date": "01/06/2025"},
    )
    assert response.status_code == 200 and "end_date" in response.context["form"].errors
    saved.refresh_from_db()
    assert saved.title == "Lớp bí thư"


def test_a_cell_is_not_an_organiser(tree):
    with pytest.raises(ValidationError) as error:
        course(tree.cell)
    assert "organiser" in error.value.message_dict


def test_attendance_once_per_course_within_the_organiser_subtree(tree, people, client_for):
    own = course(tree.tccs)
    secretary = people.members["secretary"]
    post(secretary, tree.cell)
    client = client_for(people.officer)
    url = reverse("training:attendance_add", args=[own.pk])
    # the list offers the officers in post by default
    assert list(client.get(url).context["form"].fields["member"].queryset) == [secretary]
    response = client.post(url, {"member": secretary.pk, "completed": "on", "certificate_number": "CN-07"})
    assert response.status_code == 302
    attendance = CourseAttendance.objects.get()
    assert (attendance.member, attendance.completed, attendance.certificate_number) == (secretary, True, "CN-07")
    assert AuditEntry.objects.filter(action="cells.course_attendance.create").count() == 1
    # twice: refused by the service, nothing added
    with pytest.raises(ValidationError) as error:
        services.attendance_add(course=own, member=secretary)
    assert "đã có trong danh sách học viên" in error.value.message_dict["member"][0]
    # a member outside the đảng bộ (Chi bộ Công ty Điện lực stands under the Khối)
    with pytest.raises(ValidationError) as error:
        services.attendance_add(course=own, member=people.members["other"])
    assert "Đảng bộ Sở Tài chính" in error.value.message_dict["member"][0]
    # a member of a chosen cell, not in post
    sibling_url = url + f"?don_vi={tree.sibling.pk}"
    assert list(client.get(sibling_url).context["form"].fields["member"].queryset) == [people.members["sibling"]]
    assert CourseAttendance.objects.count() == 1


def test_completion_waits_for_the_course_end_and_a_certificate_for_completion(tree, people, client_for):
    future = course(tree.tccs, start=D(2027, 5, 10), end=D(2027, 5, 12))
    member = people.members["member"]
    with at(D(2027, 5, 11)):
        client = client_for(people.officer)
        response = client.post(
            reverse("training:attendance_add", args=[future.pk]) + f"?don_vi={tree.cell.pk}",
            {"member": member.pk, "completed": "on"},
        )
        assert response.status_code == 200
        assert "Lớp kết thúc ngày 12/05/2027" in response.context["form"].errors["completed"][0]
        response = client.post(
            reverse("training:attendance_add", args=[future.pk]) + f"?don_vi={tree.cell.pk}",
            {"member": member.pk, "certificate_number": "CN-1"},
        )
        assert "certificate_number" in response.context["form"].errors
        assert not CourseAttendance.objects.exists()


def test_a_certificate_is_kept_checked_and_downloaded(tree, people, client_for):
    own = course(tree.tccs)
    attendance = services.attendance_add(course=own, member=people.members["member"])
    client = client_for(people.officer)
    url = reverse("training:attendance_update", args=[attendance.pk])
    response = client.post(url, {"completed": "on", "certificate": SimpleUploadedFile("cn.pdf", b"GIF89a not a pdf")})
    assert response.status_code == 200 and "certificate" in response.context["form"].errors
    attendance.refresh_from_db()
    assert not attendance.completed and not attendance.certificate
    response = client.post(
        url,
        {
            "completed": "on",
            "certificate_number": "CN-09",
            "certificate": SimpleUploadedFile("Giấy CN.pdf", b"%PDF-1.4\n%%EOF\n"),
        },
    )
    assert response.status_code == 302
    attendance.refresh_from_db()
    assert attendance.completed and attendance.certificate_name == "Giấy CN.pdf"
    download = client.get(reverse("training:certificate_download", args=[attendance.pk]))
    assert download.status_code == 200 and b"".join(download.streaming_content).startswith(b"%PDF")
    assert (
        client_for(people.other_secretary)
        .get(reverse("training:certificate_download", args=[attendance.pk]))
        .status_code
        == 404
    )


def test_the_profile_shows_the_training_record_and_the_post_s_deadline(tree, people, client_for):
    secretary = people.members["secretary"]
    post(secretary, tree.cell)
    other = course(tree.khoi, kind=TrainingCourse.Kind.OTHER, title="Tập huấn Sổ tay đảng viên")
    services.attendance_add(course=other, member=secretary, completed=True, certificate_number="ST-3")
    with at(D(2026, 3, 16)):
        response = client_for(people.secretary).get(reverse("cells:member_detail", args=[secretary.pk]))
    text = response.content.decode()
    assert "Tập huấn Sổ tay đảng viên" in text and "ST-3" in text
    assert [(t.deadline, t.state) for t in response.context["training_posts"]] == [(D(2026, 3, 15), training.OVERDUE)]
    # the secretary reads her record but not the course page
    assert response.context["training_record"][0][1] is False


def test_courses_visible_to_reach_the_units_above_the_subtree_not_its_siblings(tree, people):
    """courses_visible_to: the units above the user's subtree too (the Khối's course), not its siblings."""
    from cells.models import Role
    from cells.selectors import courses_visible_to

    khoi_course, own = course(tree.khoi), course(tree.tccs)
    user = UserFactory(username="officer2")
    grant(user, tree.tccs, Role.TCCS_OFFICER)
    assert set(courses_visible_to(user)) == {khoi_course, own}
    assert set(courses_visible_to(people.viewer)) == {khoi_course, own}
    assert not courses_visible_to(people.secretary).exists()
