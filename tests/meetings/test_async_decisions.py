"""Questions asked between meetings (issue #17 item 4): who is asked and the count (QĐ 294 §9.3.2 as
meetings.votes computes it), secrecy and changes before the deadline, refusals, the close at the deadline
(idempotent, lazily on read too) and the report at the next meeting's opening step and in its minutes.

The clock is fixed with time_machine: 01/12/2026 09:00 local (Asia/Ho_Chi_Minh). The cell has 7 official
members (the secretary, the member and five more) and 1 probationary member; one official member is
exempt (miễn sinh hoạt, a cells.Exemption from 01/11/2026). By hand:

* asked with a vote: 7 official − 1 exempt = **6**, the denominator; the probationary member is asked
  for an opinion only; the exempt member is not asked (§9.3.2: counted only by attending and voting);
* more than half of 6 needs 6 × 1/2 = 3, strictly more: **4** (4/6 = 66,7 % passes, 3/6 = 50 % fails);
* two thirds of 6 is 4, inclusive: **4** passes, 3 fails.
"""

import datetime
import json
import re

import pytest
import time_machine
from django.core import mail, signing
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from cells.models import AuditEntry, Exemption, Member, Notification, Suspension, TemporaryAttachment
from meetings import async_decisions as ad
from meetings import services
from meetings.models import AsyncBallot, AsyncDecision, AsyncDecisionDocument, Meeting
from meetings.tasks import async_decisions_close
from tests.factories import make_member

pytestmark = pytest.mark.django_db

HCM = datetime.timezone(datetime.timedelta(hours=7))
NOW = datetime.datetime(2026, 12, 1, 9, 0, tzinfo=HCM)
DEADLINE = datetime.datetime(2026, 12, 10, 17, 0, tzinfo=HCM)
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\n%%EOF\n"


@pytest.fixture(autouse=True)
def now(time_machine):
    time_machine.move_to(NOW, tick=False)
    return NOW


@pytest.fixture
def cell(tree, people):
    """7 official members (1 of them exempt), 1 probationary; the member has an e-mail address."""
    Member.objects.filter(pk=people.members["member"].pk).update(email="dangvien@example.vn")
    officials = [people.members["secretary"], people.members["member"]]
    officials += [make_member(organisation=tree.cell, full_name=f"Đảng Viên {n}") for n in range(5)]
    exempt = officials[-1]
    Exemption.objects.create(member=exempt, reason="Tuổi cao", start=datetime.date(2026, 11, 1))
    probationary = make_member(
        organisation=tree.cell,
        full_name="Vũ Văn Dự Bị",
        status=Member.Status.PROBATIONARY,
        email="dubi@example.vn",
    )
    return type(
        "Cell",
        (),
        {"cell": tree.cell, "officials": officials, "exempt": exempt, "probationary": probationary},
    )


def open_decision(cell, people, *, kind="other", deadline=DEADLINE, documents=()):
    return ad.decision_open(
        cell=cell.cell,
        question="Chủ trương tổ chức về nguồn tại Côn Đảo",
        kind=kind,
        deadline=deadline,
        documents=documents,
        by=people.secretary,
    )


def token(decision, member):
    return ad.answer_token(decision=decision, member=member)


def answer(decision, member, choice, comment=""):
    return ad.ballot_answer(token=token(decision, member), choice=choice, comment=comment)


def voters(cell):
    return [m for m in cell.officials if m != cell.exempt]


# --- who is asked, the count, the result ----------------------------------------------------------


def test_the_count_is_fixed_at_opening_and_four_of_six_pass_more_than_half(cell, people):
    decision = open_decision(cell, people)
    assert decision.eligible_count == 6
    assert decision.needed == 4
    rows = {b.member_id: b.voter for b in decision.ballots.all()}
    assert rows == {**{m.pk: True for m in voters(cell)}, cell.probationary.pk: False}
    assert cell.exempt.pk not in rows

    # A member joining the cell after the opening is not asked: the list is the opening day's.
    late = make_member(organisation=cell.cell, full_name="Đảng Viên Mới")
    assert not decision.ballots.filter(member=late).exists()

    v = voters(cell)
    for member in v[:4]:
        answer(decision, member, "for")
    answer(decision, v[4], "against", "Đề nghị chọn thời điểm khác")
    answer(decision, cell.probationary, "", "Em đồng ý với chủ trương")
    with time_machine.travel(DEADLINE, tick=False):
        assert ad.decisions_close_due() == 1
    decision.refresh_from_db()
    assert (decision.votes_for, decision.votes_against, decision.votes_abstain, decision.not_answered) == (4, 1, 0, 1)
    assert decision.passed is True
    assert decision.percent_for == "66,7%"
    text = decision.result_text
    assert "tán thành 4/6 (66,7%)" in text
    assert "không trả lời 1" in text
    assert "trên 1/2 (ít nhất 4/6): đạt tỷ lệ" in text


@pytest.mark.parametrize(
    ("kind", "votes_for", "passed"),
    [("other", 3, False), ("other", 4, True), ("admission", 3, False), ("admission", 4, True)],
)
def test_thresholds_against_the_denominator_of_six(cell, people, kind, votes_for, passed):
    """3/6 is not more than half; two thirds of 6 is 4, reached with 4 (the unanswered count against)."""
    decision = open_decision(cell, people, kind=kind)
    for member in voters(cell)[:votes_for]:
        answer(decision, member, "for")
    with time_machine.travel(DEADLINE, tick=False):
        ad.decisions_close_due()
    decision.refresh_from_db()
    assert decision.passed is passed
    assert decision.needed == 4


def test_suspended_and_attached_members_are_not_asked(cell, people, tree):
    suspended, attached = cell.officials[2], cell.officials[3]
    Suspension.objects.create(member=suspended, reason="Bị tạm giam", start=datetime.date(2026, 11, 20))
    TemporaryAttachment.objects.create(member=attached, place="Trường Chính trị", start=datetime.date(2026, 9, 1))
    decision = open_decision(cell, people)
    assert decision.eligible_count == 4  # 7 − exempt − suspended − attached
    asked = set(decision.ballots.values_list("member_id", flat=True))
    assert not asked & {suspended.pk, attached.pk, cell.exempt.pk}


# --- secrecy and changes before the deadline -------------------------------------------------------


def test_nobody_sees_an_answer_before_the_deadline(cell, people, client_for, client):
    decision = open_decision(cell, people)
    v = voters(cell)
    answer(decision, v[0], "against", "Ý KIẾN RIÊNG CỦA ĐỒNG CHÍ")
    answer(decision, v[1], "for")
    page = client_for(people.secretary).get(reverse("meetings:async_detail", args=[decision.pk])).content.decode()
    assert "2/6 đồng chí có quyền biểu quyết đã trả lời" in page
    assert "0/1 đảng viên dự bị đã góp ý kiến" in page
    assert "Ý KIẾN RIÊNG" not in page
    assert "Không tán thành" not in page and "tán thành 1/6" not in page
    assert ad.result_text(decision) == "" and ad.comments_of(decision) == []
    # Another member's link shows only their own (blank) answer.
    client.logout()
    own = client.get(reverse("meetings:async_answer", args=[token(decision, v[2])])).content.decode()
    assert "chưa trả lời" in own and "Ý KIẾN RIÊNG" not in own
    # The log says who answered and when, never what.
    rows = AuditEntry.objects.filter(action="meetings.async_ballot.answer")
    assert rows.count() == 2
    assert all("choice" not in row.after and "comment" not in row.after for row in rows)
    # After the deadline the result and the written opinions are shown.
    with time_machine.travel(DEADLINE, tick=False):
        page = client_for(people.secretary).get(reverse("meetings:async_detail", args=[decision.pk])).content.decode()
    assert "tán thành 1/6" in page and "Ý KIẾN RIÊNG CỦA ĐỒNG CHÍ" in page


def test_an_answer_changes_until_the_deadline(cell, people, client):
    decision = open_decision(cell, people)
    member = people.members["member"]
    url = reverse("meetings:async_answer", args=[token(decision, member)])
    assert client.post(url, {"choice": "for"}).status_code == 302
    assert client.post(url, {"choice": "against", "comment": "Nghĩ lại"}).status_code == 302
    ballot = AsyncBallot.objects.get(decision=decision, member=member)
    assert (ballot.choice, ballot.comment) == ("against", "Nghĩ lại")
    assert AsyncBallot.objects.filter(decision=decision, member=member).count() == 1
    assert AuditEntry.objects.filter(action="meetings.async_ballot.change").count() == 1
    with time_machine.travel(DEADLINE, tick=False):
        ad.decisions_close_due()
    decision.refresh_from_db()
    assert (decision.votes_for, decision.votes_against) == (0, 1)


# --- refusals --------------------------------------------------------------------------------------


def test_after_the_deadline_the_answer_is_refused_and_the_page_closes_the_decision(cell, people, client):
    decision = open_decision(cell, people)
    member = people.members["member"]
    answer(decision, member, "for")
    url = reverse("meetings:async_answer", args=[token(decision, member)])
    with time_machine.travel(DEADLINE, tick=False):
        response = client.post(url, {"choice": "against"})
        page = response.content.decode()
    assert response.status_code == 200
    assert "Đã hết hạn trả lời" in page
    ballot = AsyncBallot.objects.get(decision=decision, member=member)
    assert ballot.choice == "for"
    decision.refresh_from_db()
    assert decision.state == "closed" and decision.votes_for == 1  # closed on read, no worker needed
    with time_machine.travel(DEADLINE, tick=False), pytest.raises(ValidationError, match="hết hạn"):
        answer(decision, member, "against")


def test_a_probationary_member_gives_an_opinion_and_never_votes(cell, people, client):
    decision = open_decision(cell, people)
    url = reverse("meetings:async_answer", args=[token(decision, cell.probationary)])
    page = client.get(url).content.decode()
    assert 'name="choice"' not in page and "không biểu quyết" in page
    with pytest.raises(ValidationError, match="không có quyền biểu quyết"):
        answer(decision, cell.probationary, "for")
    assert client.post(url, {"comment": "Em đồng ý"}).status_code == 302
    ballot = AsyncBallot.objects.get(decision=decision, member=cell.probationary)
    assert (ballot.choice, ballot.comment, ballot.voter) == ("", "Em đồng ý", False)
    with time_machine.travel(DEADLINE, tick=False):
        ad.decisions_close_due()
    decision.refresh_from_db()
    assert decision.votes_for + decision.votes_against + decision.votes_abstain == 0
    assert decision.not_answered == 6


def test_outsiders_and_forged_links_are_refused(cell, people, client):
    decision = open_decision(cell, people)
    for outsider in (cell.exempt, people.members["sibling"], people.members["other"]):
        response = client.get(reverse("meetings:async_answer", args=[token(decision, outsider)]))
        assert response.status_code == 400
        assert "không thuộc danh sách được lấy ý kiến" in response.content.decode()
    good = token(decision, people.members["member"])
    forged = good[:-3] + ("aaa" if not good.endswith("aaa") else "bbb")
    # The member's own signature on another member's payload (the exempt member, not asked).
    payload = good.split(":", 1)[0]
    other = signing.b64_encode(json.dumps({"d": decision.pk, "p": cell.exempt.pk}, separators=(",", ":")).encode())
    tampered = other.decode() + good[len(payload) :]
    assert tampered != good
    for bad in (forged, tampered, "khong-phai-ma"):
        response = client.post(reverse("meetings:async_answer", args=[bad]), {"choice": "for"})
        assert response.status_code == 400
        assert "không hợp lệ" in response.content.decode()
    assert not AsyncBallot.objects.filter(answered_at__isnull=False).exists()
    # The documents follow the same key.
    assert client.get(reverse("meetings:async_answer_document", args=[forged, 1])).status_code == 404


# --- opening from the page -------------------------------------------------------------------------


def test_the_bi_thu_opens_one_with_a_local_deadline_and_documents(
    cell, people, client_for, django_capture_on_commit_callbacks
):
    client = client_for(people.secretary)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("meetings:async_create", args=[cell.cell.pk]),
            {
                "question": "Thông qua kế hoạch về nguồn",
                "kind": "other",
                "deadline": "31/12/2026 23:30",
                "documents": [SimpleUploadedFile("ke-hoach.pdf", PDF), SimpleUploadedFile("du-toan.pdf", PDF)],
            },
        )
    decision = AsyncDecision.objects.get()
    assert response.status_code == 302 and response.url == reverse("meetings:async_detail", args=[decision.pk])
    assert decision.deadline == datetime.datetime(2026, 12, 31, 23, 30, tzinfo=HCM)
    assert sorted(decision.documents.values_list("title", flat=True)) == ["du-toan.pdf", "ke-hoach.pdf"]
    assert AuditEntry.objects.filter(action="meetings.async_decision.open").count() == 1
    # Everyone asked gets an inbox row with their own link; e-mail to those with an address.
    rows = Notification.objects.filter(kind="meetings.async_decision.open")
    assert rows.count() == 7
    links = {re.search(r"/y-kien/([^/\s]+)/", row.body).group(1) for row in rows}
    assert len(links) == 7
    member_row = rows.get(member=people.members["member"])
    assert ad.read_token(re.search(r"/y-kien/([^/\s]+)/", member_row.body).group(1))[1].member == member_row.member
    assert "dubi@example.vn" in {a for m in mail.outbox for a in m.to}
    # The member opens the document from the link.
    document = decision.documents.first()
    client.logout()
    url = reverse("meetings:async_answer_document", args=[token(decision, people.members["member"]), document.pk])
    assert client.get(url).status_code == 200


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"question": "Hỏi", "kind": "other", "deadline": "01/12/2026 08:59"}, "deadline", "phải sau"),
        ({"question": "Hỏi", "kind": "other", "deadline": "31/02/2026 10:00"}, "deadline", "ngày/tháng/năm"),
        ({"question": "", "kind": "other", "deadline": "10/12/2026 17:00"}, "question", ""),
        ({"question": "Hỏi", "kind": "other", "deadline": "10/12/2027 17:00"}, "deadline", "không quá 60 ngày"),
    ],
)
def test_a_wrong_field_is_shown_next_to_it_and_nothing_is_written(cell, people, client_for, data, field, message):
    response = client_for(people.secretary).post(reverse("meetings:async_create", args=[cell.cell.pk]), data)
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert field in errors and message in " ".join(errors[field])
    assert not AsyncDecision.objects.exists() and not Notification.objects.exists()


def test_a_file_whose_content_is_not_its_name_is_refused_whole(cell, people, client_for, settings):
    response = client_for(people.secretary).post(
        reverse("meetings:async_create", args=[cell.cell.pk]),
        {
            "question": "Hỏi",
            "kind": "other",
            "deadline": "10/12/2026 17:00",
            "documents": [SimpleUploadedFile("a.pdf", PDF), SimpleUploadedFile("b.pdf", b"MZ not a pdf")],
        },
    )
    assert response.status_code == 200
    assert "Nội dung tệp không đúng định dạng PDF" in " ".join(response.context["form"].errors["documents"])
    assert not AsyncDecision.objects.exists() and not AsyncDecisionDocument.objects.exists()
    media = settings.MEDIA_ROOT
    assert not (media / "meetings" / "lay-y-kien").exists() or not any((media / "meetings" / "lay-y-kien").rglob("*.*"))


# --- closing at the deadline -----------------------------------------------------------------------


def test_a_year_end_deadline_at_23_30_local_closes_then_and_only_once(cell, people):
    deadline = datetime.datetime(2026, 12, 31, 23, 30, tzinfo=HCM)  # 16:30 UTC the same day
    decision = open_decision(cell, people, deadline=deadline)
    answer(decision, people.members["member"], "for")
    with time_machine.travel(deadline - datetime.timedelta(seconds=1), tick=False):
        assert ad.decisions_close_due() == 0
        answer(decision, people.members["secretary"], "for")  # still open at 23:29:59
    with time_machine.travel(deadline, tick=False):
        assert async_decisions_close.delay().get() == 1  # the task (eager here; the worker test below)
        assert async_decisions_close.delay().get() == 0
        with pytest.raises(ValidationError):
            answer(decision, cell.officials[2], "for")
        assert ad.decisions_close_due() == 0
        ad.decision_close_if_due(AsyncDecision.objects.get(pk=decision.pk))
    decision.refresh_from_db()
    assert decision.state == "closed" and decision.votes_for == 2
    assert decision.closed_at == deadline
    assert AuditEntry.objects.filter(action="meetings.async_decision.close").count() == 1
    assert Notification.objects.filter(kind="meetings.async_decision.result").count() == 7


def test_the_result_notice_follows_the_reminder_e_mail_opt_out(cell, people):
    Member.objects.filter(pk=cell.probationary.pk).update(optional_reminder_email=False)
    decision = open_decision(cell, people)
    mail.outbox.clear()
    with time_machine.travel(DEADLINE, tick=False):
        ad.decisions_close_due()
    rows = Notification.objects.filter(kind="meetings.async_decision.result")
    assert rows.count() == 7
    assert rows.get(member=cell.probationary).email == ""
    assert rows.get(member=people.members["member"]).email == "dangvien@example.vn"
    assert "Kết quả lấy ý kiến" in rows.first().subject
    assert decision.question in rows.first().subject


def test_the_beat_schedule_runs_the_close(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["async-decisions-close"]
    assert entry["task"] == "meetings.tasks.async_decisions_close"
    assert entry["schedule"] <= 300


# --- the report at the next meeting ----------------------------------------------------------------


def _meeting(cell, start, kind="thuong_ky", people=None):
    return services.meeting_create(
        organisation=cell,
        kind=kind,
        planned_start=start,
        planned_end=start + datetime.timedelta(hours=2),
        place="Phòng họp",
        chair=people.members["secretary"],
        clerk=people.members["secretary"],
    )


def test_reported_once_at_the_opening_step_of_the_next_meeting_and_in_its_minutes(
    cell, people, client_for, tmp_path, pdftotext_available
):
    previous = _meeting(cell.cell, datetime.datetime(2026, 12, 3, 14, 0, tzinfo=HCM), "bat_thuong", people)
    committee = _meeting(cell.cell, datetime.datetime(2026, 12, 12, 8, 0, tzinfo=HCM), "chi_uy", people)
    nxt = _meeting(cell.cell, datetime.datetime(2026, 12, 15, 14, 0, tzinfo=HCM), "thuong_ky", people)
    after = _meeting(cell.cell, datetime.datetime(2027, 1, 12, 14, 0, tzinfo=HCM), "thuong_ky", people)
    decision = open_decision(cell, people)  # deadline 10/12 17:00
    later = open_decision(cell, people, deadline=datetime.datetime(2026, 12, 20, 17, 0, tzinfo=HCM))
    for member in voters(cell)[:4]:
        answer(decision, member, "for")
    with time_machine.travel(datetime.datetime(2026, 12, 11, 8, 0, tzinfo=HCM), tick=False):
        ad.decisions_close_due()
    with time_machine.travel(datetime.datetime(2026, 12, 14, 8, 0, tzinfo=HCM), tick=False):
        assert ad.reported_at(nxt) == [decision]
        assert ad.reported_at(previous) == [] and ad.reported_at(committee) == []
        assert ad.reported_at(after) == []  # ``later`` is not closed yet: nothing due, nothing shown
        client = client_for(people.secretary)
        page = client.get(reverse("meetings:detail", args=[nxt.pk])).content.decode()
    assert "Kết quả lấy ý kiến ngoài cuộc họp" in page
    assert "tán thành 4/6 (66,7%)" in page
    opening = page.index("Khai mạc")
    assert opening < page.index("tán thành 4/6") < page.index("Thông tin thời sự")
    assert ad.reporting_meeting(decision) == nxt
    with time_machine.travel(datetime.datetime(2026, 12, 14, 8, 0, tzinfo=HCM), tick=False):
        detail = client_for(people.secretary).get(reverse("meetings:async_detail", args=[decision.pk]))
    assert reverse("meetings:detail", args=[nxt.pk]) in detail.content.decode()
    # The January meeting reports the question closed after 15/12, not the one already reported.
    with time_machine.travel(datetime.datetime(2027, 1, 5, 8, 0, tzinfo=HCM), tick=False):
        assert ad.reported_at(after) == [AsyncDecision.objects.get(pk=later.pk)]  # closed lazily here
    later.refresh_from_db()
    assert later.state == "closed"
    # The minutes of the next meeting, once it is held.
    services.meeting_publish(meeting=nxt, by=people.secretary)
    with time_machine.travel(datetime.datetime(2026, 12, 15, 17, 0, tzinfo=HCM), tick=False):
        nxt = Meeting.objects.get(pk=nxt.pk)
        services.meeting_record_held(
            meeting=nxt,
            actual_start=datetime.datetime(2026, 12, 15, 14, 0, tzinfo=HCM),
            actual_end=datetime.datetime(2026, 12, 15, 16, 0, tzinfo=HCM),
            by=people.secretary,
        )
        response = client_for(people.secretary).get(reverse("meetings:minutes", args=[nxt.pk]))
    assert response.status_code == 200, response
    minutes = response.content.decode()
    assert "Kết quả lấy ý kiến ngoài cuộc họp: Chủ trương tổ chức về nguồn tại Côn Đảo" in minutes
    assert minutes.count("Kết quả lấy ý kiến ngoài cuộc họp:") == 1
    # The PDF of the minutes, under the opening step (before the next step's heading).
    from meetings import documents

    from .test_documents import _pages

    flat = " ".join(" ".join(_pages(documents.minutes_pdf(nxt), tmp_path)).split())
    assert flat.index("Khai mạc") < flat.index("Kết quả lấy ý kiến ngoài cuộc họp:") < flat.index("Thông tin thời sự")
    assert "tán thành 4/6 (66,7%)" in flat


def test_the_bi_thu_pages_answer_in_few_queries(cell, people, client_for, django_assert_max_num_queries):
    decisions = [open_decision(cell, people) for _ in range(3)]
    for decision in decisions:
        answer(decision, people.members["member"], "for")
    client = client_for(people.secretary)
    with django_assert_max_num_queries(20):
        assert client.get(reverse("meetings:async_list", args=[cell.cell.pk])).status_code == 200
    with django_assert_max_num_queries(20):
        assert client.get(reverse("meetings:async_detail", args=[decisions[0].pk])).status_code == 200
