"""Party admission, from candidate (quần chúng ưu tú) to full member: the one home of its time limits and
step order (issue #18, item 4). The pages, the services, the reminder rule ``admission_step_due``
(meetings/reminders.py) and the demo read them here.

The sources, as ``shared/reference/domain-research.md`` quotes them:

* **Two introducers** (hai đảng viên chính thức giới thiệu; Điều lệ Đảng Art. 4, named in the issue and in
  domain-research §5 "Admission"): two *different official* members of the candidate's cell. The Charter's
  other condition on them (to have worked with the candidate for at least 12 months) is not recorded in the
  portal and is not checked.
* **The cell's resolution**: at least two thirds of its official members agree (Điều lệ Arts. 4–5; HD 06-HD/TW
  §3.6b; domain-research §5, confidence M). Counted and measured by ``meetings.votes`` (``TWO_THIRDS``) on a
  vote of kind ``admission`` recorded at one of the cell's meetings: never re-counted here.
* **The ceremony** (lễ kết nạp) within **30 working days** of the decision (domain-research §5 "Probation",
  confidence H/M: luatvietnam; quiz repo Q6, Q13, Q19; §10.2 "an admission ceremony due within 30 working days
  of the decision"). The Party's text counts from the day the cell *receives* the decision (ngày nhận quyết
  định, ``Candidate.decision_received_on``): the limit runs from it when recorded, else from the decision's
  date — a due date never later than the rule's, and the page says so (``ceremony_counts_from``).
* **Probation**: **12 months** from the ceremony (Điều lệ Art. 5; domain-research §5 "Probation", confidence
  H). Party age counts from the decision's date. The end of the probation is ``Member.probation_review_due``.
* **The full-membership review**: within **30 working days** of the 12 months ending, the cell reviews the
  member for full membership (domain-research §5 "Probation"; §10.2 "a warning 30 working days after the
  12-month probation ends"). The vote and the confirmation are the existing ``cells.services
  .member_confirm_full_membership`` (a vote of kind ``full_membership`` at a meeting after the probation).
* **The class certificate** (giấy chứng nhận lớp bồi dưỡng nhận thức về Đảng) is valid **60 months**
  (domain-research §9, glossary: "certificate valid 60 months"; the glossary names no document or clause —
  confidence L). The decision must fall within it.

Working days are Monday to Friday (``lib.dates.add_working_days``): public holidays are not in the portal,
so they count as working days and a due date is never later than the rule's.

No source sets a time for the political class, the candidate's documents, the cell's vote or the đảng ủy's
proposal: those steps have **no due date of their own**; until the decision their due date is the
certificate's expiry (the decision must come before it).

``REMINDER_DAYS_BEFORE`` (10 days) is the **portal's own** warning period (the Khối's requirement, issue #18:
"reminders to the bí thư and the mentors"), not a Party rule.
"""

import datetime
from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from lib.dates import add_working_days, months_before

CEREMONY_WORKING_DAYS = 30  # after the decision (see the module's sources)
PROBATION_MONTHS = 12  # from the ceremony (Điều lệ Art. 5)
REVIEW_WORKING_DAYS = 30  # after the probation ends
CERTIFICATE_VALID_MONTHS = 60  # domain-research §9 glossary, no document named
REMINDER_DAYS_BEFORE = 10  # the portal's warning period, not a Party rule

# The steps, in order. Each is recorded on the candidate page; "vote" is read from the cell's meeting.
PROPOSED, CLASS, DOCUMENTS, VOTE, PROPOSAL, DECISION, CEREMONY, PROBATION, OFFICIAL = (
    "proposed",
    "class",
    "documents",
    "vote",
    "proposal",
    "decision",
    "ceremony",
    "probation",
    "official",
)
STEPS = (PROPOSED, CLASS, DOCUMENTS, VOTE, PROPOSAL, DECISION, CEREMONY, PROBATION, OFFICIAL)
STEP_LABELS = {
    PROPOSED: _("Chi bộ giới thiệu quần chúng ưu tú"),
    CLASS: _("Học lớp bồi dưỡng nhận thức về Đảng"),
    DOCUMENTS: _("Hoàn thiện hồ sơ xin vào Đảng"),
    VOTE: _("Chi bộ biểu quyết đề nghị kết nạp"),
    PROPOSAL: _("Đảng ủy cơ sở đề nghị kết nạp"),
    DECISION: _("Quyết định kết nạp"),
    CEREMONY: _("Lễ kết nạp"),
    PROBATION: _("Dự bị 12 tháng, xét công nhận chính thức"),
    OFFICIAL: _("Đã là đảng viên chính thức"),
}


def certificate_expiry(class_date: datetime.date) -> datetime.date:
    """The last day the certificate is valid: 60 months after its date (29/02/2024 → 28/02/2029)."""
    return months_before(class_date, -CERTIFICATE_VALID_MONTHS)


def ceremony_due(decision_date: datetime.date) -> datetime.date:
    """The last day for the ceremony: 30 working days after the decision (31/01/2026 → 13/03/2026)."""
    return add_working_days(decision_date, CEREMONY_WORKING_DAYS)


def ceremony_counts_from(candidate) -> tuple[datetime.date | None, bool]:
    """The day the ceremony's 30 working days run from, and whether it is the day the decision was received
    (False: the decision's date, as no day of receipt is recorded yet)."""
    if candidate.decision_received_on:
        return candidate.decision_received_on, True
    return candidate.decision_date, False


def probation_end(ceremony_date: datetime.date) -> datetime.date:
    """The day the 12 months of probation are complete, as ``Member.probation_review_due`` gives it:
    the same day 12 months later (29/02/2024 → 28/02/2025)."""
    return months_before(ceremony_date, -PROBATION_MONTHS)


def review_due(ceremony_date: datetime.date) -> datetime.date:
    """The last day for the cell's full-membership review: 30 working days after the probation ends."""
    return add_working_days(probation_end(ceremony_date), REVIEW_WORKING_DAYS)


@dataclass(frozen=True)
class StepState:
    """One step of one candidate: done on which day, and its due date (None: no rule sets one)."""

    code: str
    done_on: datetime.date | None
    due: datetime.date | None

    @property
    def label(self) -> str:
        return str(STEP_LABELS[self.code])

    def overdue(self, today: datetime.date) -> bool:
        return self.done_on is None and self.due is not None and today > self.due

    def due_soon(self, today: datetime.date) -> bool:
        return (
            self.done_on is None
            and self.due is not None
            and self.due - datetime.timedelta(days=REMINDER_DAYS_BEFORE) <= today <= self.due
        )


def steps_of(candidate, *, vote_day: datetime.date | None) -> list[StepState]:
    """Every step of ``candidate`` with its date done and due date; ``vote_day`` is the day of the cell's
    passed admission vote (None without one)."""
    expiry = certificate_expiry(candidate.class_date) if candidate.class_date else None
    member = candidate.member if candidate.member_id else None
    official_on = member.full_membership_date if member and member.status == member.Status.OFFICIAL else None
    ceremony_from, _received = ceremony_counts_from(candidate)
    rows = [
        StepState(PROPOSED, candidate.proposed_on, None),
        StepState(CLASS, candidate.class_date, None),
        StepState(DOCUMENTS, candidate.documents_date, expiry),
        StepState(VOTE, vote_day, expiry),
        StepState(PROPOSAL, candidate.proposal_date, expiry),
        StepState(DECISION, candidate.decision_date, expiry),
        StepState(
            CEREMONY,
            candidate.ceremony_date,
            ceremony_due(ceremony_from) if ceremony_from else None,
        ),
        StepState(PROBATION, official_on, review_due(candidate.ceremony_date) if candidate.ceremony_date else None),
    ]
    return rows


def current_step(steps: list[StepState]) -> StepState | None:
    """The first step not done (None once the candidate is an official member)."""
    for step in steps:
        if step.done_on is None:
            return step
    return None
