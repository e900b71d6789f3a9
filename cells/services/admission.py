"""Party admission (issue #18, item 4): the candidate the cell proposes, each step recorded on it, and the
member record created at the ceremony. The time limits and the order of the steps: cells/admission.py."""

import datetime

from django.apps import apps
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from lib.formatting import date_text
from lib.uploads import check_content

from .. import admission
from ..models import Candidate, CandidateDocument, Member, Organisation
from .audit import audit_log, snapshot
from .members import member_create
from .training import CERTIFICATE_KINDS, CERTIFICATE_MAX_BYTES

PERSONAL_FIELDS = (
    "full_name",
    "date_of_birth",
    "sex",
    "citizen_id",
    "phone",
    "email",
    "workplace",
    "job_title",
    "hometown",
)
CANDIDATE_FIELDS = (*PERSONAL_FIELDS, "mentor_1", "mentor_2", "proposed_on")
# The fields each step records (the vote is recorded at the cell's meeting, the probation on the member).
STEP_FIELDS = {
    admission.CLASS: ("class_name", "class_date", "certificate_number"),
    admission.DOCUMENTS: (
        "has_application",
        "has_biography",
        "has_references",
        "has_reviews",
        "has_verification",
        "documents_date",
    ),
    admission.PROPOSAL: ("proposal_number", "proposal_date"),
    admission.DECISION: (
        "decision_number",
        "decision_date",
        "decision_level",
        "decision_signer",
        "decision_received_on",
    ),
    admission.CEREMONY: ("ceremony_date",),
}
DOCUMENT_FLAGS = STEP_FIELDS[admission.DOCUMENTS][:-1]


# --- the cell's vote (read from the meetings app through the registry: it sits above this one) ---------


def admission_vote(candidate: Candidate):
    """The cell's passed admission vote on ``candidate`` (≥ 2/3 of its official members, measured by
    ``meetings.votes``), at a held meeting of the candidate's cell; the latest one, or None."""
    Vote = apps.get_model("meetings", "Vote")  # noqa: N806
    votes = (
        Vote.objects.filter(
            kind="admission",
            candidate=candidate,
            meeting__organisation_id=candidate.organisation_id,
            meeting__state__in=["held", "minutes_adopted"],
        )
        .select_related("meeting")
        .order_by("-meeting__actual_start", "-pk")
    )
    for vote in votes:
        if vote.passed:
            return vote
    return None


def vote_day(vote) -> datetime.date | None:
    if vote is None:
        return None
    return timezone.localdate(vote.meeting.actual_start or vote.meeting.planned_start)


# --- checks ---------------------------------------------------------------------------------------


def _official_of_cell(member: Member | None, cell: Organisation) -> bool:
    return (
        member is not None
        and member.organisation_id == cell.pk
        and member.status == Member.Status.OFFICIAL
        and member.state == Member.State.ACTIVE
    )


def _check_candidate(*, organisation: Organisation, fields: dict) -> None:
    errors = {}
    today = timezone.localdate()
    if not organisation.is_cell:
        errors["organisation"] = _("Quần chúng ưu tú do một chi bộ giới thiệu.")
    # Điều lệ Art. 4: two official members introduce the candidate (cells/admission.py).
    for key in ("mentor_1", "mentor_2"):
        if not _official_of_cell(fields.get(key), organisation):
            errors[key] = _("Người giới thiệu phải là đảng viên chính thức của chi bộ.")
    if fields.get("mentor_1") is not None and fields.get("mentor_1") == fields.get("mentor_2"):
        errors["mentor_2"] = _("Hai người giới thiệu phải là hai đảng viên khác nhau.")
    if fields.get("proposed_on") and fields["proposed_on"] > today:
        errors["proposed_on"] = _("Ngày giới thiệu không thể ở tương lai.")
    if fields.get("date_of_birth") and fields["date_of_birth"] > today:
        errors["date_of_birth"] = _("Ngày sinh không thể ở tương lai.")
    citizen_id = fields.get("citizen_id") or ""
    if citizen_id and Member.objects.filter(citizen_id=citizen_id).exists():
        # Worded as cells.services.members words it: entering numbers must not tell who is on file.
        errors["citizen_id"] = _(
            "Không dùng được Số CCCD này. Hãy kiểm tra lại; nếu số đúng, đề nghị cấp ủy cấp trên kiểm tra."
        )
    if errors:
        raise ValidationError(errors)


def _not_future(errors: dict, key: str, day: datetime.date | None, today: datetime.date) -> None:
    if day and day > today:
        errors[key] = _("Ngày này không thể ở tương lai.")


def _not_before(errors: dict, key: str, day, earlier, what: str) -> None:
    if day and earlier and day < earlier:
        errors.setdefault(
            key, _("Ngày này không thể trước %(what)s (%(date)s).") % {"what": what, "date": date_text(earlier)}
        )


def _still_in_pipeline(candidate: Candidate, withdrawn: str) -> None:
    """Refuse a change to a candidate who is no longer in the pipeline: admitted (the ceremony was held, the
    record is the member's now) or withdrawn (``withdrawn``: the refusal in the words of what was asked)."""
    if candidate.member_id:
        raise ValidationError(_("Đã tổ chức lễ kết nạp: hồ sơ kết nạp không sửa được nữa."))
    if candidate.withdrawn_on:
        raise ValidationError(withdrawn)


def _check_step(candidate: Candidate, step: str, data: dict) -> None:
    """The step's own fields, the steps before it done, its dates in order and not in the future."""
    errors: dict[str, str] = {}
    today = timezone.localdate()
    _still_in_pipeline(candidate, _("Chi bộ đã dừng xem xét quần chúng này: không ghi thêm bước kết nạp."))
    vote = admission_vote(candidate)
    voted_on = vote_day(vote)
    if step == admission.CLASS:
        if not data.get("class_date"):
            errors["class_date"] = _("Nhập ngày cấp giấy chứng nhận.")
        if not (data.get("certificate_number") or "").strip():
            errors["certificate_number"] = _("Nhập số giấy chứng nhận.")
        _not_future(errors, "class_date", data.get("class_date"), today)
        if candidate.documents_date and data.get("class_date") and data["class_date"] > candidate.documents_date:
            errors["class_date"] = _("Ngày cấp giấy chứng nhận phải trước ngày hoàn thiện hồ sơ.")
    elif step == admission.DOCUMENTS:
        if not candidate.class_date:
            raise ValidationError(_("Cần ghi giấy chứng nhận lớp bồi dưỡng nhận thức về Đảng trước."))
        missing = [key for key in DOCUMENT_FLAGS if not data.get(key)]
        if missing:
            for key in missing:
                errors[key] = _("Hồ sơ chưa có giấy tờ này.")
        if not data.get("documents_date"):
            errors["documents_date"] = _("Nhập ngày hoàn thiện hồ sơ.")
        _not_future(errors, "documents_date", data.get("documents_date"), today)
        _not_before(
            errors, "documents_date", data.get("documents_date"), candidate.class_date, _("ngày cấp giấy chứng nhận")
        )
        if voted_on and data.get("documents_date") and data["documents_date"] > voted_on:
            errors["documents_date"] = _("Hồ sơ phải hoàn thiện trước khi chi bộ biểu quyết.")
    elif step == admission.PROPOSAL:
        if vote is None:
            raise ValidationError(
                _(
                    "Chưa có nghị quyết của chi bộ: cần một biểu quyết “kết nạp đảng viên” về quần chúng này tại "
                    "buổi sinh hoạt của chi bộ, được từ 2/3 số đảng viên chính thức tán thành."
                )
            )
        if not data.get("proposal_date"):
            errors["proposal_date"] = _("Nhập ngày đảng ủy đề nghị.")
        if not (data.get("proposal_number") or "").strip():
            errors["proposal_number"] = _("Nhập số văn bản đề nghị.")
        _not_future(errors, "proposal_date", data.get("proposal_date"), today)
        _not_before(errors, "proposal_date", data.get("proposal_date"), voted_on, _("ngày chi bộ biểu quyết"))
        if candidate.decision_date and data.get("proposal_date") and data["proposal_date"] > candidate.decision_date:
            errors["proposal_date"] = _("Ngày đảng ủy đề nghị phải trước ngày quyết định kết nạp.")
    elif step == admission.DECISION:
        if not candidate.proposal_date:
            raise ValidationError(_("Cần ghi văn bản đề nghị của đảng ủy trước."))
        for key, message in (
            ("decision_number", _("Nhập số quyết định.")),
            ("decision_date", _("Nhập ngày quyết định.")),
            ("decision_level", _("Chọn cấp ra quyết định.")),
        ):
            if not data.get(key):
                errors[key] = message
        day = data.get("decision_date")
        _not_future(errors, "decision_date", day, today)
        _not_before(errors, "decision_date", day, candidate.proposal_date, _("ngày đảng ủy đề nghị"))
        received = data.get("decision_received_on")
        _not_future(errors, "decision_received_on", received, today)
        _not_before(errors, "decision_received_on", received, day, _("ngày ký quyết định"))
        if received and candidate.ceremony_date and received > candidate.ceremony_date:
            errors["decision_received_on"] = _("Ngày nhận quyết định phải trước ngày lễ kết nạp.")
        # The steps go in order: the class (and its date) is recorded before the decision.
        expiry = admission.certificate_expiry(candidate.class_date) if candidate.class_date else None
        if day and expiry and day > expiry:
            errors.setdefault(
                "decision_date",
                _(
                    "Giấy chứng nhận lớp bồi dưỡng nhận thức về Đảng hết giá trị ngày %(date)s (60 tháng): "
                    "quần chúng cần học lại lớp trước khi kết nạp."
                )
                % {"date": date_text(expiry)},
            )
    elif step == admission.CEREMONY:
        if not candidate.decision_date:
            raise ValidationError(_("Cần ghi quyết định kết nạp trước."))
        if not data.get("ceremony_date"):
            errors["ceremony_date"] = _("Nhập ngày lễ kết nạp.")
        _not_future(errors, "ceremony_date", data.get("ceremony_date"), today)
        _not_before(errors, "ceremony_date", data.get("ceremony_date"), candidate.decision_date, _("ngày quyết định"))
    else:
        raise ValueError(step)
    if errors:
        raise ValidationError(errors)


# --- writes ---------------------------------------------------------------------------------------


@transaction.atomic
def candidate_create(*, organisation: Organisation, by=None, **fields) -> Candidate:
    """The cell proposes a quần chúng ưu tú, introduced by two of its official members."""
    unknown = set(fields) - set(CANDIDATE_FIELDS)
    if unknown:
        raise TypeError(f"unknown candidate fields: {sorted(unknown)}")
    _check_candidate(organisation=organisation, fields=fields)
    candidate = Candidate(organisation=organisation, **fields)
    candidate.full_clean()
    candidate.save()
    audit_log(
        actor=by,
        action="cells.candidate.create",
        instance=candidate,
        organisation=organisation,
        after=snapshot(candidate),
    )
    return candidate


@transaction.atomic
def candidate_update(*, candidate: Candidate, by=None, **fields) -> Candidate:
    """Correct the candidate's record or introducers (until the ceremony)."""
    unknown = set(fields) - set(CANDIDATE_FIELDS)
    if unknown:
        raise TypeError(f"unknown candidate fields: {sorted(unknown)}")
    candidate = Candidate.objects.select_for_update().get(pk=candidate.pk)
    _still_in_pipeline(candidate, _("Chi bộ đã dừng xem xét quần chúng này: hồ sơ không sửa được nữa."))
    _check_candidate(organisation=candidate.organisation, fields=fields)
    before = snapshot(candidate)
    for key, value in fields.items():
        setattr(candidate, key, value)
    candidate.full_clean()
    candidate.save()
    audit_log(
        actor=by,
        action="cells.candidate.update",
        instance=candidate,
        organisation=candidate.organisation,
        before=before,
        after=snapshot(candidate),
    )
    return candidate


@transaction.atomic
def candidate_record_step(*, candidate: Candidate, step: str, by=None, **data) -> Candidate:
    """Record one step (the class, the documents, the đảng ủy's proposal, the decision, the ceremony). The
    ceremony creates the probationary member from the candidate, in the same transaction."""
    if step not in STEP_FIELDS:
        raise ValueError(step)
    unknown = set(data) - set(STEP_FIELDS[step])
    if unknown:
        raise TypeError(f"unknown fields for {step}: {sorted(unknown)}")
    candidate = Candidate.objects.select_for_update().select_related("organisation").get(pk=candidate.pk)
    _check_step(candidate, step, data)
    before = snapshot(candidate)
    for key, value in data.items():
        setattr(candidate, key, value.strip() if isinstance(value, str) else value)
    if step == admission.CEREMONY:
        candidate.member = member_create(
            organisation=candidate.organisation,
            joined_on=candidate.ceremony_date,
            by=by,
            **{key: getattr(candidate, key) for key in PERSONAL_FIELDS},
            status=Member.Status.PROBATIONARY,
            admission_decision_date=candidate.decision_date,
            admission_ceremony_date=candidate.ceremony_date,
        )
    candidate.full_clean()
    candidate.save()
    if step == admission.CLASS:
        _log_step(candidate, before=before, by=by, action="cells.candidate.class")
    elif step == admission.DOCUMENTS:
        _log_step(candidate, before=before, by=by, action="cells.candidate.documents")
    elif step == admission.PROPOSAL:
        _log_step(candidate, before=before, by=by, action="cells.candidate.proposal")
    elif step == admission.DECISION:
        _log_step(candidate, before=before, by=by, action="cells.candidate.decision")
    else:
        _log_step(candidate, before=before, by=by, action="cells.candidate.ceremony")
    return candidate


def _log_step(candidate: Candidate, *, before: dict, by, action: str) -> None:
    audit_log(
        actor=by,
        action=action,
        instance=candidate,
        organisation=candidate.organisation,
        before=before,
        after=snapshot(candidate),
    )


@transaction.atomic
def candidate_withdraw(*, candidate: Candidate, withdrawn_on: datetime.date, reason: str, by=None) -> Candidate:
    """The cell stops considering the candidate (rút khỏi danh sách): out of the pipeline and its reminders,
    kept with the reason. Not after the ceremony: the candidate is then a member (the member's own record)."""
    candidate = Candidate.objects.select_for_update().select_related("organisation").get(pk=candidate.pk)
    if candidate.member_id:
        raise ValidationError(_("Đã tổ chức lễ kết nạp: quần chúng đã là đảng viên, không dừng xem xét được."))
    if candidate.withdrawn_on:
        raise ValidationError(_("Chi bộ đã dừng xem xét quần chúng này."))
    errors: dict[str, str] = {}
    reason = (reason or "").strip()
    if not reason:
        errors["reason"] = _("Nhập lý do dừng xem xét.")
    if not withdrawn_on:
        errors["withdrawn_on"] = _("Nhập ngày dừng xem xét.")
    _not_future(errors, "withdrawn_on", withdrawn_on, timezone.localdate())
    _not_before(errors, "withdrawn_on", withdrawn_on, candidate.proposed_on, _("ngày chi bộ giới thiệu"))
    if errors:
        raise ValidationError(errors)
    before = snapshot(candidate)
    candidate.withdrawn_on = withdrawn_on
    candidate.withdrawal_reason = reason
    candidate.full_clean()
    candidate.save()
    _log_step(candidate, before=before, by=by, action="cells.candidate.withdraw")
    return candidate


# --- the scans of the candidate's papers (the class certificate, the documents of the file) ---------------

# The same types and size as a training certificate's scan: PDF, JPEG, PNG by their content, 10 MB.
DOCUMENT_KINDS = CERTIFICATE_KINDS
DOCUMENT_MAX_BYTES = CERTIFICATE_MAX_BYTES


@transaction.atomic
def candidate_document_add(*, candidate: Candidate, kind: str, file, by=None) -> CandidateDocument:
    """Store a scan of one of the candidate's papers under the cell; a bad file writes nothing."""
    candidate = Candidate.objects.select_for_update().select_related("organisation").get(pk=candidate.pk)
    _still_in_pipeline(candidate, _("Chi bộ đã dừng xem xét quần chúng này: không tải thêm giấy tờ được nữa."))
    if kind not in CandidateDocument.Kind.values:
        raise ValidationError({"kind": _("Chọn loại giấy tờ.")})
    if not file:
        raise ValidationError({"file": _("Chọn tệp để tải lên.")})
    content_type = check_content(
        file,
        kinds=DOCUMENT_KINDS,
        max_bytes=DOCUMENT_MAX_BYTES,
        too_large=_("Tệp lớn hơn 10 MB."),
        not_allowed=_("Chỉ nhận tệp PDF hoặc ảnh (JPG, PNG)."),
    )
    document = CandidateDocument(
        candidate=candidate,
        kind=kind,
        file=file,
        original_name=(file.name or "")[:255],
        content_type=content_type,
        uploaded_by=by if getattr(by, "is_authenticated", False) else None,
    )
    document.save()
    audit_log(
        actor=by,
        action="cells.candidate_document.create",
        instance=document,
        organisation=candidate.organisation,
        after=snapshot(document) | {"file": document.file.name},
    )
    return document


def candidate_document_downloaded(*, document: CandidateDocument, by=None) -> None:
    """The audit row of a download: the candidate's papers hold personal data (lý lịch, nhận xét)."""
    audit_log(
        actor=by,
        action="cells.candidate_document.download",
        instance=document,
        organisation=document.candidate.organisation,
    )
