"""Questions asked between meetings (issue #17, item 4): open, answer from the link, close at the deadline,
report at the next meeting.

The rule lives in ``meetings.votes`` (``consultation_base``, ``threshold_for``): who is asked and the
denominator are fixed when the question opens; the result needs the same share as a meeting's vote. No
Party text lets a cell decide outside a meeting (``meetings.votes``, "a decision asked between
meetings"), so the result is recorded as the cell's consultation and reported at the opening step and
in the minutes of the cell's next meeting, which adopts it.

Closing is idempotent: each decision is closed under its row lock, once (``decisions_close_due``, run by
the periodic task ``meetings.tasks.async_decisions_close`` and, lazily, by every page that shows one).
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Q
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from cells.services import audit_log, notification_send, snapshot
from lib.formatting import time_and_day
from lib.uploads import check_named

from . import kinds
from .models import AsyncBallot, AsyncDecision, AsyncDecisionDocument, Meeting, Vote
from .votes import consultation_base

TOKEN_SALT = "meetings.async_decision"
# A link is kept after the deadline, to read the result; a year covers the next meeting's report.
TOKEN_MAX_AGE = datetime.timedelta(days=366)
# The longest a question may stay open. No Party text sets one; a question asked between two monthly
# meetings is answered before the next (Điều lệ Art. 24.2: the cell meets monthly): 60 days leaves room
# for a meeting moved once, and refuses a year typed wrong.
MAX_OPEN = datetime.timedelta(days=60)


def _log(*, by, action, decision, instance=None, before=None, after=None):
    instance = instance or decision
    audit_log(
        actor=by,
        action=action,
        instance=instance,
        organisation=decision.organisation,
        before=before,
        after=after if after is not None else snapshot(instance),
    )


# --- the member's link -----------------------------------------------------------------------------


def answer_token(*, decision: AsyncDecision, member) -> str:
    return signing.TimestampSigner(salt=TOKEN_SALT).sign_object({"d": decision.pk, "p": member.pk})


def answer_url(*, decision: AsyncDecision, member) -> str:
    base = getattr(settings, "SITE_URL", "").rstrip("/")
    return base + reverse("meetings:async_answer", args=[answer_token(decision=decision, member=member)])


def read_token(token: str) -> tuple[AsyncDecision, AsyncBallot]:
    """The decision and the member's row a link points at. ValidationError when the link is forged or
    expired, and when the member is not among those asked (an outsider's well-signed link included)."""
    try:
        data = signing.TimestampSigner(salt=TOKEN_SALT).unsign_object(token, max_age=TOKEN_MAX_AGE)
        decision_id, member_id = int(data["d"]), int(data["p"])
    except signing.SignatureExpired:
        raise ValidationError(_("Đường dẫn trả lời đã hết hạn.")) from None
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        raise ValidationError(_("Đường dẫn trả lời không hợp lệ.")) from None
    ballot = (
        AsyncBallot.objects.select_related("decision", "decision__organisation", "member")
        .filter(decision_id=decision_id, member_id=member_id)
        .first()
    )
    if ballot is None:
        raise ValidationError(
            _(
                "Đồng chí không thuộc danh sách được lấy ý kiến về nội dung này (chỉ đảng viên của chi bộ "
                "khi mở lấy ý kiến, không kể đảng viên miễn sinh hoạt, đình chỉ sinh hoạt hoặc sinh hoạt tạm "
                "thời nơi khác)."
            )
        )
    return ballot.decision, ballot


# --- opening ---------------------------------------------------------------------------------------


def _check_documents(files) -> None:
    for file in files:
        try:
            check_named(
                file,
                allowed=AsyncDecisionDocument.ALLOWED,
                max_bytes=AsyncDecisionDocument.MAX_BYTES,
                too_large=_("Tệp %(name)s quá lớn: tối đa 10 MB.") % {"name": file.name},
                not_allowed=_("Tệp %(name)s: chỉ nhận tệp PDF, DOCX, XLSX, JPG hoặc PNG.") % {"name": file.name},
            )
        except ValidationError as error:
            raise ValidationError({"documents": error.message_dict["file"]}) from None


@transaction.atomic
def decision_open(
    *, cell, question: str, deadline: datetime.datetime, kind: str = "other", details: str = "", documents=(), by=None
) -> AsyncDecision:
    """Open a question to the cell: one row per member asked (the count is fixed now), the documents, an
    audit row, and each member's personal link by inbox and e-mail. Nothing is written on an error."""
    now = timezone.now()
    errors = {}
    question = (question or "").strip()
    if not question:
        errors["question"] = _("Vui lòng ghi nội dung xin ý kiến.")
    if kind not in Vote.Kind.values:
        errors["kind"] = _("Loại biểu quyết không hợp lệ.")
    if deadline is None:
        errors["deadline"] = _("Vui lòng ghi hạn trả lời.")
    elif deadline <= now:
        errors["deadline"] = _("Hạn trả lời phải sau thời điểm hiện tại.")
    elif deadline - now > MAX_OPEN:
        errors["deadline"] = _("Hạn trả lời không quá %(days)s ngày kể từ hôm nay.") % {"days": MAX_OPEN.days}
    if errors:
        raise ValidationError(errors)
    documents = list(documents or ())
    _check_documents(documents)
    base, probationary = consultation_base(cell, timezone.localdate(now))
    if not base.denominator:
        raise ValidationError(_("Chi bộ không có đảng viên chính thức nào được lấy ý kiến."))
    decision = AsyncDecision.objects.create(
        organisation=cell,
        question=question[:255],
        details=(details or "").strip(),
        kind=kind,
        opened_by=by if getattr(by, "pk", None) else None,
        opened_at=now,
        deadline=deadline,
        eligible_count=base.denominator,
    )
    for file in documents:
        document = AsyncDecisionDocument(decision=decision, title=file.name[:255], size=file.size)
        document.file.save(file.name, file, save=False)
        document.save()
    AsyncBallot.objects.bulk_create(
        [AsyncBallot(decision=decision, member_id=p.member_id, voter=True) for p in base.counted]
        + [AsyncBallot(decision=decision, member_id=p.member_id, voter=False) for p in probationary]
    )
    _log(
        by=by,
        action="meetings.async_decision.open",
        decision=decision,
        after={
            **snapshot(decision),
            "documents": [d.title for d in decision.documents.all()],
            "asked": len(base.counted) + len(probationary),
        },
    )
    _notify_open(decision)
    return decision


def _notify_open(decision: AsyncDecision) -> None:
    ballots = list(decision.ballots.select_related("member"))
    subject = _("Xin ý kiến đảng viên: %(question)s") % {"question": decision.question}
    lines = [
        _("Chi bộ %(cell)s xin ý kiến đồng chí ngoài cuộc họp về nội dung: %(question)s")
        % {"cell": decision.organisation.name, "question": decision.question},
        _("Hạn trả lời: %(when)s") % {"when": time_and_day(decision.deadline)},
    ]
    if decision.details:
        lines.append(decision.details)
    titles = [d.title for d in decision.documents.all()]
    if titles:
        lines.append(_("Tài liệu: %(titles)s") % {"titles": "; ".join(titles)})
    body = "\n".join(lines)
    voters = {b.member_id for b in ballots if b.voter}

    def body_for(member):
        ask = (
            _("Trả lời (không cần đăng nhập): %(url)s")
            if member.pk in voters
            else _("Đồng chí là đảng viên dự bị: góp ý kiến, không biểu quyết (không cần đăng nhập): %(url)s")
        )
        return body + "\n\n" + ask % {"url": answer_url(decision=decision, member=member)}

    notification_send(
        members=[b.member for b in ballots],
        kind="meetings.async_decision.open",
        subject=subject,
        body=body,
        organisation=decision.organisation,
        body_for=body_for,
    )


# --- answering -------------------------------------------------------------------------------------


def _is_due(decision: AsyncDecision, now: datetime.datetime) -> bool:
    return decision.state == AsyncDecision.State.OPEN and decision.deadline <= now


def ballot_answer(*, token: str, choice: str, comment: str = "") -> AsyncBallot:
    """The member's answer (or its change) before the deadline; a probationary member gives an opinion
    only. The decision's row is locked, so an answer and the close cannot cross."""
    decision, ballot = read_token(token)
    comment = (comment or "").strip()
    with transaction.atomic():
        decision = AsyncDecision.objects.select_for_update().get(pk=decision.pk)
        now = timezone.now()
        if decision.state != AsyncDecision.State.OPEN or decision.deadline <= now:
            error = ValidationError(
                _("Đã hết hạn trả lời (%(when)s); ý kiến không được ghi nhận.")
                % {"when": time_and_day(decision.deadline)}
            )
        else:
            error = None
            ballot = AsyncBallot.objects.select_for_update().get(pk=ballot.pk)
            if not ballot.voter and choice:
                raise ValidationError(
                    {"choice": _("Đảng viên dự bị có quyền góp ý kiến, không có quyền biểu quyết (Điều lệ Điều 3).")}
                )
            if ballot.voter and choice not in (
                AsyncBallot.Choice.FOR,
                AsyncBallot.Choice.AGAINST,
                AsyncBallot.Choice.ABSTAIN,
            ):
                raise ValidationError({"choice": _("Chọn tán thành, không tán thành hoặc không biểu quyết.")})
            if not ballot.voter and not comment:
                raise ValidationError({"comment": _("Vui lòng ghi ý kiến.")})
            changed = bool(ballot.answered_at)
            ballot.choice = choice if ballot.voter else ""
            ballot.comment = comment
            ballot.answered_at = now
            ballot.save(update_fields=["choice", "comment", "answered_at"])
            # The answer itself is not in the log: nobody may read it before the deadline.
            _log(
                by=ballot.member.user if ballot.member.user_id else None,
                action="meetings.async_ballot.change" if changed else "meetings.async_ballot.answer",
                decision=decision,
                instance=ballot,
                after=snapshot(ballot, exclude=("choice", "comment")),
            )
    if error is not None:
        decision_close_if_due(decision)
        raise error
    return ballot


# --- closing ---------------------------------------------------------------------------------------


def _close(decision: AsyncDecision, now: datetime.datetime) -> None:
    """Count the answers of the locked ``decision`` against its fixed denominator, record and announce."""
    counts = decision.ballots.filter(voter=True).aggregate(
        votes_for=Count("pk", filter=Q(choice=AsyncBallot.Choice.FOR)),
        votes_against=Count("pk", filter=Q(choice=AsyncBallot.Choice.AGAINST)),
        votes_abstain=Count("pk", filter=Q(choice=AsyncBallot.Choice.ABSTAIN)),
        not_answered=Count("pk", filter=Q(choice="")),
    )
    before = snapshot(decision)
    for field, value in counts.items():
        setattr(decision, field, value)
    decision.passed = decision.threshold.passes(counts["votes_for"], decision.eligible_count)
    decision.state = AsyncDecision.State.CLOSED
    decision.closed_at = now
    decision.save(update_fields=["state", "closed_at", "passed", *counts])
    _log(by=None, action="meetings.async_decision.close", decision=decision, before=before)
    ballots = list(decision.ballots.select_related("member"))
    notification_send(
        members=[b.member for b in ballots],
        kind="meetings.async_decision.result",
        subject=_("Kết quả lấy ý kiến: %(question)s") % {"question": decision.question},
        body=result_text(decision)
        + "\n"
        + _("Kết quả được báo cáo tại buổi sinh hoạt tiếp theo của chi bộ để chi bộ thông qua."),
        organisation=decision.organisation,
        optional=True,
    )


def decision_close_if_due(decision: AsyncDecision) -> AsyncDecision:
    """Close ``decision`` if its deadline has passed and nobody has closed it yet (the page's lazy close)."""
    now = timezone.now()
    if not _is_due(decision, now):
        return decision
    with transaction.atomic():
        locked = AsyncDecision.objects.select_for_update().select_related("organisation").get(pk=decision.pk)
        if _is_due(locked, now):
            _close(locked, now)
    decision.refresh_from_db()
    return decision


def decisions_close_due(*, organisation=None) -> int:
    """Close every decision whose deadline has passed, each in its own transaction under its row lock;
    a row another worker is closing is skipped (it closes it). Returns how many this call closed."""
    now = timezone.now()
    due = AsyncDecision.objects.filter(state=AsyncDecision.State.OPEN, deadline__lte=now)
    if organisation is not None:
        due = due.filter(organisation=organisation)
    closed = 0
    for pk in list(due.values_list("pk", flat=True)):
        with transaction.atomic():
            locked = (
                AsyncDecision.objects.select_for_update(skip_locked=True, of=("self",))
                .select_related("organisation")
                .filter(pk=pk, state=AsyncDecision.State.OPEN, deadline__lte=now)
                .first()
            )
            if locked is not None:
                _close(locked, now)
                closed += 1
    return closed


# --- reading ---------------------------------------------------------------------------------------


def result_text(decision: AsyncDecision) -> str:
    """ "Lấy ý kiến ... (hạn 10/12/2026 17:00): tán thành 4/6 (66,7%), ...; cần trên 1/2: đạt." """
    if not decision.is_closed:
        return ""
    return _(
        "%(question)s (hạn trả lời %(deadline)s): tán thành %(for)s/%(base)s (%(percent)s), không tán thành "
        "%(against)s, không biểu quyết %(abstain)s, không trả lời %(none)s; cần %(label)s (ít nhất %(needed)s/"
        "%(base)s): %(outcome)s"
    ) % {
        "question": decision.question,
        "deadline": time_and_day(decision.deadline),
        "for": decision.votes_for,
        "base": decision.eligible_count,
        "percent": decision.percent_for,
        "against": decision.votes_against,
        "abstain": decision.votes_abstain,
        "none": decision.not_answered,
        "label": decision.threshold_label,
        "needed": decision.needed,
        "outcome": _("đạt tỷ lệ") if decision.passed else _("không đạt tỷ lệ"),
    }


def answered_counts(decision: AsyncDecision) -> dict:
    """How many answered, not how: what the bí thư sees before the deadline."""
    return decision.ballots.aggregate(
        voters=Count("pk", filter=Q(voter=True)),
        voters_answered=Count("pk", filter=Q(voter=True, answered_at__isnull=False)),
        opinions=Count("pk", filter=Q(voter=False)),
        opinions_answered=Count("pk", filter=Q(voter=False, answered_at__isnull=False)),
    )


def comments_of(decision: AsyncDecision) -> list[AsyncBallot]:
    """The written opinions, shown once the decision has closed (never before)."""
    if not decision.is_closed:
        return []
    return list(decision.ballots.exclude(comment="").select_related("member").order_by("member__full_name", "pk"))


def _start():
    return Coalesce("actual_start", "planned_start")


def reported_at(meeting: Meeting) -> list[AsyncDecision]:
    """The decisions the cell asked between its previous meeting and ``meeting``: those whose deadline is
    after the previous meeting of the whole cell began and not after this one begins. Each decision is
    therefore reported once, at the first meeting of the cell after its deadline. A due one not yet
    closed (the worker late) is closed here first."""
    if meeting.kind not in kinds.codes("cell_meeting"):
        return []
    start = meeting.actual_start or meeting.planned_start
    window = AsyncDecision.objects.filter(organisation_id=meeting.organisation_id, deadline__lte=start)
    previous = (
        Meeting.objects.filter(organisation_id=meeting.organisation_id, kind__in=kinds.codes("cell_meeting"))
        .exclude(state=Meeting.State.CANCELLED)
        .exclude(pk=meeting.pk)
        .annotate(start=_start())
        .filter(start__lt=start)
        .order_by("-start")
        .values_list("start", flat=True)
        .first()
    )
    if previous is not None:
        window = window.filter(deadline__gt=previous)
    decisions = list(window.order_by("deadline", "pk"))
    now = timezone.now()
    if any(_is_due(d, now) for d in decisions):
        decisions = [decision_close_if_due(d) for d in decisions]
    return [d for d in decisions if d.is_closed]


def reporting_meeting(decision: AsyncDecision) -> Meeting | None:
    """The meeting that reports ``decision`` (``reported_at``'s other side): the cell's first meeting of the
    whole cell, not cancelled, beginning at or after the deadline; None until one is planned."""
    return (
        Meeting.objects.filter(organisation_id=decision.organisation_id, kind__in=kinds.codes("cell_meeting"))
        .exclude(state=Meeting.State.CANCELLED)
        .annotate(start=_start())
        .filter(start__gte=decision.deadline)
        .order_by("start", "pk")
        .first()
    )


def decisions_of(cell) -> list[AsyncDecision]:
    """The cell's questions, newest deadline first, with how many of those with a vote answered."""
    decisions = list(
        AsyncDecision.objects.filter(organisation=cell).annotate(
            voters=Count("ballots", filter=Q(ballots__voter=True)),
            voters_answered=Count("ballots", filter=Q(ballots__voter=True, ballots__answered_at__isnull=False)),
        )
    )
    return decisions
