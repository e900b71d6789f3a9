"""Party admission (issue #18, item 4): the time limits of cells/admission.py on hand-worked dates, the steps
through the services (the cell's vote from meetings.votes, the member created at the ceremony), the reminder
rule ``admission_step_due``, and the pages."""

import datetime

import pytest
import time_machine
from django.core import mail
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from cells import admission, services
from cells.models import AuditEntry, Candidate, CandidateDocument, CellMembership, Member, Notification, Position
from lib.dates import add_working_days
from meetings import reminders
from meetings import services as meeting_services
from meetings.models import ReminderDelivery, ReminderRule, Vote
from tests.factories import make_member

from ..meetings.conftest import hold, plan

pytestmark = pytest.mark.django_db

D = datetime.date
TODAY = D(2026, 3, 10)  # a Tuesday


def local(day: datetime.date, hour: int = 10, minute: int = 0) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour, minute)))


def at(day: datetime.date, hour: int = 10, minute: int = 0):
    return time_machine.travel(local(day, hour, minute), tick=False)


@pytest.fixture
def pinned():
    with at(TODAY):
        yield


# --- the rules on hand-worked dates -----------------------------------------------------------------


def test_working_days_skip_weekends():
    assert add_working_days(D(2026, 1, 30), 1) == D(2026, 2, 2)  # Friday + 1 → Monday
    assert add_working_days(D(2026, 1, 31), 1) == D(2026, 2, 2)  # Saturday + 1 → Monday
    assert add_working_days(D(2026, 2, 2), 5) == D(2026, 2, 9)
    assert add_working_days(D(2026, 2, 2), 0) == D(2026, 2, 2)


def test_the_time_limits_and_their_numbers():
    assert (admission.CEREMONY_WORKING_DAYS, admission.PROBATION_MONTHS, admission.REVIEW_WORKING_DAYS) == (30, 12, 30)
    assert admission.CERTIFICATE_VALID_MONTHS == 60 and admission.REMINDER_DAYS_BEFORE == 10
    # decision Saturday 31/01/2026: February 2–27 holds 20 working days, 02–06/03 five more, 09–13/03 the last five
    assert admission.ceremony_due(D(2026, 1, 31)) == D(2026, 3, 13)
    # decision Thursday 29/02/2024: 01/03 is the 1st, 04–08/03 the 2nd–6th … 01–05/04 the 22nd–26th, 11/04 the 30th
    assert admission.ceremony_due(D(2024, 2, 29)) == D(2024, 4, 11)
    # decision Thursday 31/12/2026: 01/01/2027 (a holiday, counted: never later than the rule) is the 1st … 11/02
    assert admission.ceremony_due(D(2026, 12, 31)) == D(2027, 2, 11)
    # probation: 12 months from the ceremony; 29/02 → 28/02 of the next year, as Member.probation_review_due
    assert admission.probation_end(D(2024, 2, 29)) == D(2025, 2, 28)
    assert admission.probation_end(D(2026, 1, 31)) == D(2027, 1, 31)
    member = Member(status=Member.Status.PROBATIONARY, admission_ceremony_date=D(2024, 2, 29))
    assert member.probation_review_due() == admission.probation_end(D(2024, 2, 29))
    # review: 30 working days after Friday 28/02/2025: 03–07/03 … 07–11/04
    assert admission.review_due(D(2024, 2, 29)) == D(2025, 4, 11)
    # certificate: 60 months
    assert admission.certificate_expiry(D(2024, 2, 29)) == D(2029, 2, 28)
    assert admission.certificate_expiry(D(2026, 1, 31)) == D(2031, 1, 31)


# --- the steps through the services ---------------------------------------------------------------------


@pytest.fixture
def mentors(tree, people):
    return people.members["secretary"], people.members["member"]


def propose(tree, mentors, **fields):
    values = {
        "full_name": "Nguyễn Thị Quần Chúng",
        "date_of_birth": D(1998, 5, 20),
        "sex": Member.Sex.FEMALE,
        "citizen_id": "045198000123",
        "workplace": "Văn phòng Sở Tài chính",
        "mentor_1": mentors[0],
        "mentor_2": mentors[1],
        "proposed_on": D(2025, 9, 1),
    } | fields
    return services.candidate_create(organisation=tree.cell, **values)


DOCUMENTS = dict.fromkeys(
    ("has_application", "has_biography", "has_references", "has_reviews", "has_verification"), True
)


def admission_vote(cell, people, candidate, votes_for, meeting=None):
    """The cell's admission vote at yesterday's meeting: 2 official members, both present."""
    meeting = meeting or hold(plan(cell, chair=people.members["secretary"], clerk=people.members["member"]))
    return meeting_services.vote_record(
        meeting=meeting,
        question=f"Kết nạp quần chúng {candidate.full_name}",
        kind=Vote.Kind.ADMISSION,
        votes_for=votes_for,
        votes_against=2 - votes_for,
        candidate=candidate,
    )


def test_two_different_official_members_of_the_cell_introduce_the_candidate(pinned, tree, people, mentors):
    probationary = make_member(organisation=tree.cell, full_name="Dự Bị", status=Member.Status.PROBATIONARY)
    with pytest.raises(ValidationError) as error:
        propose(tree, mentors, mentor_2=mentors[0])
    assert "khác nhau" in error.value.message_dict["mentor_2"][0]
    with pytest.raises(ValidationError) as error:
        propose(tree, mentors, mentor_1=probationary, mentor_2=people.members["sibling"])
    assert "chính thức của chi bộ" in error.value.message_dict["mentor_1"][0]
    assert "chính thức của chi bộ" in error.value.message_dict["mentor_2"][0]
    with pytest.raises(ValidationError) as error:
        propose(tree, mentors, proposed_on=TODAY + datetime.timedelta(days=1))
    assert "proposed_on" in error.value.message_dict
    assert not Candidate.objects.exists()
    candidate = propose(tree, mentors, by=people.secretary)
    assert AuditEntry.objects.filter(action="cells.candidate.create", object_id=str(candidate.pk)).exists()


def test_one_candidate_through_every_step_to_a_probationary_member(pinned, tree, people, mentors):
    candidate = propose(tree, mentors)
    with pytest.raises(ValidationError):  # the documents need the certificate first
        services.candidate_record_step(candidate=candidate, step="documents", **DOCUMENTS, documents_date=TODAY)
    services.candidate_record_step(
        candidate=candidate, step="class", class_name="Lớp 3/2025", class_date=D(2025, 10, 15), certificate_number="12"
    )
    with pytest.raises(ValidationError) as error:
        services.candidate_record_step(
            candidate=candidate, step="documents", **(DOCUMENTS | {"has_reviews": False}), documents_date=D(2026, 2, 20)
        )
    assert set(error.value.message_dict) == {"has_reviews"}
    services.candidate_record_step(candidate=candidate, step="documents", **DOCUMENTS, documents_date=D(2026, 2, 20))
    with pytest.raises(ValidationError) as error:  # no vote of the cell yet
        services.candidate_record_step(candidate=candidate, step="proposal", proposal_number="45", proposal_date=TODAY)
    assert "2/3" in error.value.messages[0]
    failed = admission_vote(tree.cell, people, candidate, votes_for=1)  # 1 of 2: below two thirds
    assert not failed.passed and services.admission_vote(candidate) is None
    with pytest.raises(ValidationError):
        services.candidate_record_step(candidate=candidate, step="proposal", proposal_number="45", proposal_date=TODAY)
    passed = admission_vote(tree.cell, people, candidate, votes_for=2, meeting=failed.meeting)
    assert passed.eligible_count == 2 and passed.passed and services.admission_vote(candidate) == passed
    with pytest.raises(ValidationError) as error:  # before the vote's day (yesterday)
        services.candidate_record_step(
            candidate=candidate, step="proposal", proposal_number="45", proposal_date=D(2026, 3, 1)
        )
    assert "proposal_date" in error.value.message_dict
    services.candidate_record_step(
        candidate=candidate, step="proposal", proposal_number="45-TTr/ĐU", proposal_date=TODAY
    )
    services.candidate_record_step(
        candidate=candidate,
        step="decision",
        decision_number="123-QĐ/ĐUK",
        decision_date=TODAY,
        decision_level=Candidate.DecisionLevel.UPPER_COMMITTEE,
        decision_signer="Phó Bí thư Đảng ủy Khối",
    )
    row = services_row(candidate)
    assert row.current.code == admission.CEREMONY and row.current.due == D(2026, 4, 21)  # 10/03 + 30 working days
    assert Member.objects.filter(full_name=candidate.full_name).count() == 0
    services.candidate_record_step(candidate=candidate, step="ceremony", ceremony_date=TODAY, by=people.officer)
    candidate.refresh_from_db()
    member = candidate.member
    assert member.status == Member.Status.PROBATIONARY and member.organisation == tree.cell
    assert (member.admission_decision_date, member.admission_ceremony_date) == (TODAY, TODAY)
    assert (member.citizen_id, member.date_of_birth, member.workplace) == (
        "045198000123",
        D(1998, 5, 20),
        candidate.workplace,
    )
    assert CellMembership.objects.filter(member=member, organisation=tree.cell, start=TODAY).exists()
    row = services_row(candidate)
    assert row.current.code == admission.PROBATION
    assert row.current.due == D(2027, 4, 21)  # 10/03/2027 + 30 working days
    actions = set(AuditEntry.objects.values_list("action", flat=True))
    assert {
        "cells.candidate.class",
        "cells.candidate.decision",
        "cells.candidate.ceremony",
        "cells.member.create",
    } <= actions
    with pytest.raises(ValidationError):  # nothing changes after the ceremony
        services.candidate_record_step(candidate=candidate, step="decision", decision_number="x", decision_date=TODAY)
    # the full-membership vote and confirmation: the existing machinery, after the 12 months
    with at(D(2027, 3, 12)):
        meeting = hold(plan(tree.cell, chair=mentors[0], clerk=mentors[1]))
        meeting_services.vote_record(
            meeting=meeting,
            question="Công nhận chính thức",
            kind=Vote.Kind.FULL_MEMBERSHIP,
            votes_for=2,
            votes_against=0,
            subject=member,
        )
        services.member_confirm_full_membership(member=member, on=D(2027, 3, 12))
    row = services_row(candidate)
    assert row.current is None and row.steps[-1].done_on == D(2027, 3, 12)


def services_row(candidate):
    from cells.selectors import candidate_rows

    return candidate_rows(Candidate.objects.filter(pk=candidate.pk))[0]


def test_the_decision_must_fall_within_the_certificates_sixty_months(tree, people, mentors):
    with at(D(2025, 1, 10)):
        candidate = propose(tree, mentors, proposed_on=D(2020, 1, 2), citizen_id="")
        Candidate.objects.filter(pk=candidate.pk).update(
            class_date=D(2020, 1, 31), certificate_number="1", documents_date=D(2024, 12, 1), **DOCUMENTS
        )
        admission_vote(tree.cell, people, candidate, votes_for=2)
        services.candidate_record_step(
            candidate=candidate, step="proposal", proposal_number="1", proposal_date=D(2025, 1, 10)
        )
    with at(D(2025, 2, 3)):
        with pytest.raises(ValidationError) as error:  # 31/01/2020 + 60 months = 31/01/2025
            services.candidate_record_step(
                candidate=candidate,
                step="decision",
                decision_number="9",
                decision_date=D(2025, 2, 1),
                decision_level=Candidate.DecisionLevel.DELEGATED,
            )
        assert "31/01/2025" in error.value.message_dict["decision_date"][0]
        services.candidate_record_step(
            candidate=candidate,
            step="decision",
            decision_number="9",
            decision_date=D(2025, 1, 31),
            decision_level=Candidate.DecisionLevel.DELEGATED,
        )


def test_an_admission_vote_is_about_a_candidate_of_the_meetings_cell(pinned, tree, people, mentors):
    candidate = propose(tree, mentors)
    meeting = hold(plan(tree.sibling, chair=people.members["sibling"]))
    with pytest.raises(ValidationError) as error:
        meeting_services.vote_record(
            meeting=meeting,
            question="Kết nạp",
            kind=Vote.Kind.ADMISSION,
            votes_for=1,
            votes_against=0,
            candidate=candidate,
        )
    assert "candidate" in error.value.message_dict
    own = hold(plan(tree.cell, chair=mentors[0], clerk=mentors[1]))
    with pytest.raises(ValidationError) as error:
        meeting_services.vote_record(
            meeting=own, question="Khác", kind=Vote.Kind.OTHER, votes_for=2, votes_against=0, candidate=candidate
        )
    assert "candidate" in error.value.message_dict
    assert not Vote.objects.exists()


# --- the reminder rule ------------------------------------------------------------------------------


@pytest.fixture
def decided(tree, people, mentors):
    """A candidate decided on Saturday 31/01/2026: the ceremony is due on 13/03/2026."""
    with at(D(2026, 1, 31)):
        candidate = propose(tree, mentors)
        Candidate.objects.filter(pk=candidate.pk).update(
            class_date=D(2025, 10, 15),
            certificate_number="12",
            documents_date=D(2025, 12, 1),
            proposal_number="1",
            proposal_date=D(2026, 1, 30),
            decision_number="2",
            decision_date=D(2026, 1, 31),
            decision_level=Candidate.DecisionLevel.UPPER_COMMITTEE,
            **DOCUMENTS,
        )
        admission_vote(tree.cell, people, candidate, votes_for=2)  # held on 30/01/2026
    services.position_assign(
        member=people.members["secretary"], organisation=tree.cell, kind=Position.Kind.SECRETARY, start=D(2025, 1, 1)
    )
    return candidate


def test_the_reminder_goes_ten_days_before_the_due_date_once_to_the_secretary_and_the_mentors(
    decided, tree, people, mentors, django_capture_on_commit_callbacks
):
    rule = ReminderRule.objects.get(code="admission_step_due")
    assert rule.enabled and not rule.optional
    for number, mentor in enumerate(mentors):
        Member.objects.filter(pk=mentor.pk).update(email=f"mentor{number}@example.vn")
    # 13/03/2026 − 10 days = 03/03/2026; 02/03 at 23:30 is still outside the window
    with at(D(2026, 3, 2), 23, 30):
        assert reminders.reminder_rule_run(rule_id=rule.pk) == 0
    with at(D(2026, 3, 3), 0, 30), django_capture_on_commit_callbacks(execute=True):
        # the mentors are the secretary and the member: two people, one message each
        assert reminders.reminder_rule_run(rule_id=rule.pk) == 2
        assert reminders.reminder_rule_run(rule_id=rule.pk) == 0
    sent = Notification.objects.filter(kind="meetings.reminder.admission_step_due")
    assert sorted(sent.values_list("member__full_name", flat=True)) == sorted(m.full_name for m in mentors)
    assert "Lễ kết nạp" in sent.first().subject and "13/03/2026" in sent.first().subject
    assert sent.first().url == reverse("admission:candidate_detail", args=[decided.pk])
    assert sorted(message.to[0] for message in mail.outbox) == ["mentor0@example.vn", "mentor1@example.vn"]
    assert set(ReminderDelivery.objects.values_list("object_type", "object_id", "occurrence")) == {
        ("candidate", decided.pk, "ceremony-2026-03-13")
    }
    with at(D(2026, 3, 16)):  # overdue now: the same occurrence, not sent again
        assert reminders.reminder_rule_run(rule_id=rule.pk) == 0


def test_no_reminder_for_a_step_without_a_due_date_or_far_from_it(tree, people, mentors):
    rule = ReminderRule.objects.get(code="admission_step_due")
    with at(TODAY):
        propose(tree, mentors)  # at the class: no due date
        assert reminders.reminder_rule_run(rule_id=rule.pk) == 0


# --- the pages ------------------------------------------------------------------------------------------


def test_the_cell_pipeline_shows_the_step_and_due_date_overdue_in_red(
    decided, tree, people, client_for, django_assert_max_num_queries
):
    propose(tree, (people.members["secretary"], people.members["member"]), full_name="Trần Văn Mới", citizen_id="")
    client = client_for(people.secretary)
    with at(D(2026, 3, 16)):
        url = reverse("admission:cell_pipeline", args=[tree.cell.pk])
        with django_assert_max_num_queries(14):
            response = client.get(url)
    html = response.content.decode()
    assert response.status_code == 200
    assert "13/03/2026" in html and "list-group-item-danger" in html and "Quá hạn" in html
    assert "Trần Văn Mới" in html and "Học lớp bồi dưỡng nhận thức về Đảng" in html


def test_a_wrong_date_is_shown_next_to_its_field_and_nothing_is_written(pinned, tree, people, mentors, client_for):
    client = client_for(people.secretary)
    url = reverse("admission:candidate_create", args=[tree.cell.pk])
    response = client.post(
        url,
        {"full_name": "A", "mentor_1": mentors[0].pk, "mentor_2": mentors[0].pk, "proposed_on": "31/02/2026"},
    )
    assert response.status_code == 200
    form = response.context["form"]
    assert "proposed_on" in form.errors
    assert not Candidate.objects.exists()
    response = client.post(
        url, {"full_name": "A", "mentor_1": mentors[0].pk, "mentor_2": mentors[0].pk, "proposed_on": "01/03/2026"}
    )
    assert "khác nhau" in response.context["form"].errors["mentor_2"][0]
    response = client.post(
        url, {"full_name": "A", "mentor_1": mentors[0].pk, "mentor_2": mentors[1].pk, "proposed_on": "01/03/2026"}
    )
    candidate = Candidate.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse(
        "admission:candidate_detail", args=[candidate.pk]
    )
    step = reverse("admission:candidate_step", args=[candidate.pk, "class"])
    response = client.post(step, {"class_date": "15/13/2025", "certificate_number": ""})
    assert {"class_date", "certificate_number"} <= set(response.context["form"].errors)
    client.post(step, {"class_date": "15/10/2025", "certificate_number": "12"})
    candidate.refresh_from_db()
    assert candidate.class_date == D(2025, 10, 15)
    page = client.get(reverse("admission:candidate_detail", args=[candidate.pk])).content.decode()
    assert "15/10/2025" in page and "15/10/2030" in page  # the certificate's 60 months as the due date


def test_the_upper_level_sees_the_pipeline_by_dang_bo(decided, tree, people, client_for, django_assert_max_num_queries):
    propose(tree, (people.members["secretary"], people.members["member"]), full_name="Trần Văn Mới", citizen_id="")
    client = client_for(people.admin)
    with at(D(2026, 3, 16)), django_assert_max_num_queries(16):
        response = client.get(reverse("admission:unit_pipeline", args=[tree.khoi.pk]))
    groups = {group["unit"].pk: group for group in response.context["groups"]}
    assert groups[tree.tccs.pk]["total"] == 2 and groups[tree.tccs.pk]["overdue"] == 1
    assert groups[tree.tccs.pk]["counts"]["ceremony"] == 1 and groups[tree.tccs.pk]["counts"]["class"] == 1
    assert groups[tree.other.pk]["total"] == 0
    assert response.context["total"] == 2 and response.context["overdue"] == 1
    assert "Đảng bộ Sở Tài chính" in response.content.decode()


# --- the day the decision was received; withdrawing a candidate --------------------------------------


def test_the_ceremony_counts_from_the_day_the_decision_was_received(decided, people, client_for):
    # decided Saturday 31/01/2026 (due 13/03), received Wednesday 04/02/2026: 05–06/02 are the 1st–2nd working
    # days, 09–13/02 the 3rd–7th … 09–13/03 the 23rd–27th, 16–18/03 the 28th–30th → 18/03/2026
    assert admission.ceremony_due(D(2026, 2, 4)) == D(2026, 3, 18)
    client = client_for(people.secretary)
    page = reverse("admission:candidate_detail", args=[decided.pk])
    step = reverse("admission:candidate_step", args=[decided.pk, "decision"])
    data = {"decision_number": "2", "decision_date": "31/01/2026", "decision_level": "upper"}
    with at(D(2026, 2, 10), 23, 30):
        html = client.get(page).content.decode()
        assert "13/03/2026" in html and "tính từ ngày ký quyết định (31/01/2026) vì chưa có ngày nhận" in html
        for wrong, words in (("30/01/2026", "trước ngày ký quyết định"), ("11/02/2026", "tương lai")):
            response = client.post(step, data | {"decision_received_on": wrong})
            assert response.status_code == 200
            assert words in response.context["form"].errors["decision_received_on"][0]
            decided.refresh_from_db()
            assert decided.decision_received_on is None
        response = client.post(step, data | {"decision_received_on": "04/02/2026"})
        assert response.status_code == 302
        decided.refresh_from_db()
        assert decided.decision_received_on == D(2026, 2, 4)
        row = services_row(decided)
        assert row.current.code == admission.CEREMONY and row.current.due == D(2026, 3, 18)
        html = client.get(page).content.decode()
        assert "18/03/2026" in html and "Hạn tính từ ngày nhận quyết định (04/02/2026)" in html
    assert AuditEntry.objects.filter(action="cells.candidate.decision", object_id=str(decided.pk)).exists()


def test_a_withdrawn_candidate_leaves_the_pipeline_and_its_reminders(decided, tree, people, client_for):
    rule = ReminderRule.objects.get(code="admission_step_due")
    client = client_for(people.secretary)
    url = reverse("admission:candidate_withdraw", args=[decided.pk])
    with at(D(2026, 3, 5), 23, 30):  # inside the ceremony's reminder window (from 03/03)
        response = client.post(url, {"withdrawn_on": "05/03/2026", "reason": "  "})
        assert response.status_code == 200 and "reason" in response.context["form"].errors
        response = client.post(url, {"withdrawn_on": "06/03/2026", "reason": "Chuyển công tác"})
        assert "tương lai" in response.context["form"].errors["withdrawn_on"][0]
        decided.refresh_from_db()
        assert decided.withdrawn_on is None
        response = client.post(url, {"withdrawn_on": "05/03/2026", "reason": "Chuyển công tác khỏi cơ quan"})
        assert response.status_code == 302
        assert response["Location"] == reverse("admission:cell_pipeline", args=[tree.cell.pk])
        decided.refresh_from_db()
        assert (decided.withdrawn_on, decided.withdrawal_reason) == (D(2026, 3, 5), "Chuyển công tác khỏi cơ quan")
        assert AuditEntry.objects.filter(action="cells.candidate.withdraw", object_id=str(decided.pk)).exists()
        assert reminders.reminder_rule_run(rule_id=rule.pk) == 0
        from cells.selectors import candidates_in_pipeline

        assert not candidates_in_pipeline().filter(pk=decided.pk).exists()
        response = client.get(reverse("admission:cell_pipeline", args=[tree.cell.pk]))
        assert [row.candidate for row, _overdue, _soon in response.context["rows"]] == []
        assert list(response.context["withdrawn"]) == [decided]
        html = response.content.decode()
        assert "Đã dừng xem xét" in html and "Chuyển công tác khỏi cơ quan" in html and "05/03/2026" in html
        with pytest.raises(ValidationError):  # no more steps, no second withdrawal
            services.candidate_record_step(candidate=decided, step="ceremony", ceremony_date=D(2026, 3, 5))
        with pytest.raises(ValidationError):
            services.candidate_withdraw(candidate=decided, withdrawn_on=D(2026, 3, 5), reason="x")
        with pytest.raises(ValidationError) as error:
            services.candidate_update(
                candidate=decided, full_name="Tên khác", mentor_1=decided.mentor_1, mentor_2=decided.mentor_2
            )
        assert "đã dừng xem xét" in error.value.messages[0]
        page = client.get(reverse("admission:candidate_detail", args=[decided.pk])).content.decode()
        assert "Chi bộ đã dừng xem xét ngày 05/03/2026." in page
        assert reverse("admission:candidate_withdraw", args=[decided.pk]) not in page


def test_no_withdrawal_after_the_ceremony(decided, people):
    with at(D(2026, 3, 5)):
        services.candidate_record_step(candidate=decided, step="ceremony", ceremony_date=D(2026, 3, 5))
        with pytest.raises(ValidationError) as error:
            services.candidate_withdraw(candidate=decided, withdrawn_on=D(2026, 3, 5), reason="Lý do")
    assert "đã là đảng viên" in error.value.messages[0]
    decided.refresh_from_db()
    assert decided.withdrawn_on is None and decided.member_id is not None


# --- the scans of the candidate's papers ---------------------------------------------------------------

PDF = b"%PDF-1.4\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def test_a_bad_file_is_refused_next_to_its_field_and_writes_nothing(
    pinned, tree, people, mentors, client_for, settings
):
    from cells.services.admission import DOCUMENT_MAX_BYTES

    candidate = propose(tree, mentors)
    client = client_for(people.secretary)
    url = reverse("admission:candidate_document_upload", args=[candidate.pk])
    for upload, words in (
        (SimpleUploadedFile("don.pdf", b"GIF89a not a pdf"), "Chỉ nhận tệp PDF hoặc ảnh"),
        (SimpleUploadedFile("don.png", PDF), "không đúng với tên tệp"),
        (SimpleUploadedFile("don.pdf", PDF + b"0" * DOCUMENT_MAX_BYTES), "lớn hơn 10 MB"),
    ):
        response = client.post(url, {"kind": "application", "file": upload})
        assert response.status_code == 200
        assert words in response.context["form"].errors["file"][0]
    assert not CandidateDocument.objects.exists()
    assert not AuditEntry.objects.filter(action="cells.candidate_document.create").exists()
    media = settings.MEDIA_ROOT / "ket-nap"
    assert not media.exists() or not any(media.rglob("*.*"))


def test_the_papers_are_stored_under_the_cell_and_read_by_those_who_read_the_candidate(
    pinned, tree, people, mentors, client_for
):
    candidate = propose(tree, mentors)
    client = client_for(people.secretary)
    url = reverse("admission:candidate_document_upload", args=[candidate.pk])
    response = client.post(url, {"kind": "certificate", "file": SimpleUploadedFile("Giấy CN.png", PNG)})
    assert response.status_code == 302
    response = client.post(url, {"kind": "biography", "file": SimpleUploadedFile("Lý lịch.pdf", PDF)})
    assert response.status_code == 302
    documents = {document.kind: document for document in CandidateDocument.objects.all()}
    assert set(documents) == {"certificate", "biography"}
    biography = documents["biography"]
    assert biography.file.name.startswith(f"ket-nap/{tree.cell.pk}/{candidate.pk}/")
    assert "Lý lịch" not in biography.file.name and biography.content_type == "application/pdf"
    assert documents["certificate"].content_type == "image/png"
    page = client.get(reverse("admission:candidate_detail", args=[candidate.pk])).content.decode()
    assert "Lý lịch.pdf" in page and "Giấy CN.png" in page
    download = reverse("admission:candidate_document_download", args=[biography.pk])
    response = client.get(download)
    assert response.status_code == 200 and b"".join(response.streaming_content) == PDF
    assert response["Cache-Control"] == "private, no-store"
    assert (
        AuditEntry.objects.filter(action="cells.candidate_document.download", object_id=str(biography.pk)).count() == 1
    )
    assert client_for(people.admin).get(download).status_code == 200  # the Khối reads the pipeline
    for outsider in (people.member, people.other_secretary):  # a plain member, the secretary of another cell
        assert client_for(outsider).get(download).status_code == 404
    assert AuditEntry.objects.filter(action="cells.candidate_document.download").count() == 2
    services.candidate_withdraw(candidate=candidate, withdrawn_on=TODAY, reason="Chuyển công tác")
    with pytest.raises(ValidationError) as refused:  # a withdrawn candidate's file takes no more papers
        services.candidate_document_add(
            candidate=candidate, kind="application", file=SimpleUploadedFile("don.pdf", PDF)
        )
    assert refused.value.messages == ["Chi bộ đã dừng xem xét quần chúng này: không tải thêm giấy tờ được nữa."]
