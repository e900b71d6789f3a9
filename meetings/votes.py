"""How a decision of a meeting is counted: who may vote, what it is measured against, what it needs.

One home for the rule (issue #19). The vote form and the service, the meeting page, the minutes and
their PDF, the completeness check, the scoring (``scoring.facts.conclusion_voted``) and the demo
generator all read it here. Sources, as ``shared/reference/domain-research.md`` §5 quotes them:

* **Điều lệ Đảng, Art. 9.5**: a resolution of a Party body is valid when *more than half* of the
  members of the body approve.
* **QĐ 24-QĐ/TW §9.3.2, kept in QĐ 294-QĐ/TW §9.3.2** (in force 01/7/2025), how "the members" are
  counted at a party-member conference or congress: the **official members summoned**, minus (a)
  those temporarily attached to another party organisation, (b) exempt members (miễn công tác và
  sinh hoạt đảng) who are **absent** — an exempt member who attends and votes is counted —, (c)
  members suspended (đình chỉ sinh hoạt đảng), prosecuted, indicted or detained, and (d), at a
  congress only, official members absent throughout with a reason the convening committee accepted.
  The portal holds no congresses, so (d) is not applied: an absence with a reason does not shrink
  the count ("20 official members, 3 away on business: the denominator is still 20").
  The portal has no record of prosecution or detention of its own: such a member is recorded as
  suspended (a ``cells.Suspension``), as the disciplinary rules suspend them (QĐ 296-QĐ/TW).
* **Admission and confirmation of full membership**: the cell's resolution needs *at least two
  thirds* of its official members to agree (Điều lệ Arts. 4–5; HD 06-HD/TW §3.6b; domain-research
  §5, confidence M), counted the same way.
* **Who may vote**: official members only; probationary members have every right except voting,
  standing and electing (Điều lệ Art. 3.4). An exempt member who attends may vote (§9.3.2 above): the
  portal takes an exempt member recorded present as taking part.
* **The chi ủy's own meeting** counts its incumbent members (QĐ 24/294 §9.3.3, read only in part in
  domain-research: "the total number of incumbent members"): the bí thư, phó bí thư and chi ủy viên
  holding the position on the day, with the same exclusions.
* **Quorum**: no minimum attendance for an ordinary monthly meeting was found (domain-research §5
  "Meeting quorum … Not found" and §11.3; the "≥ 2/3 present" seen in reports concerns confidence
  votes and elections). Điều lệ Art. 9.5 and §9.3 set none either. What they do imply is checked and
  shown: whether the official members present with a vote are *enough to carry* a decision — more
  than half of the count, and two thirds for admission and full membership. A meeting below that can
  still meet; it cannot pass a resolution.

Each exclusion comes from a record of the meeting's day: the cell's memberships (who was a member),
``Member.status`` with ``full_membership_date`` (who was official that day), the attendance row
("sinh hoạt tạm thời nơi khác"; present or not), ``cells.Exemption`` and ``cells.Suspension``
covering the day. A row marked "miễn sinh hoạt" without an exemption record does not shrink the
count: it is listed so that the record can be added.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop, ngettext

# --- thresholds -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Threshold:
    """``votes_for / base`` must be above (or, ``inclusive``, at least) ``numerator / denominator``."""

    numerator: int
    denominator: int
    inclusive: bool
    label: str  # marked for translation, shown with gettext
    source: str

    def passes(self, votes_for: int, base: int) -> bool:
        if base <= 0:
            return False
        left, right = votes_for * self.denominator, base * self.numerator
        return left >= right if self.inclusive else left > right

    def minimum(self, base: int) -> int | None:
        """The fewest votes for that pass against ``base`` (None when nothing can pass)."""
        if base <= 0:
            return None
        whole, rest = divmod(base * self.numerator, self.denominator)
        if self.inclusive:
            return whole + (1 if rest else 0)
        return whole + 1


ORDINARY = Threshold(1, 2, False, gettext_noop("trên 1/2"), "Điều lệ Đảng Điều 9 khoản 5; QĐ 294-QĐ/TW điểm 9.3")
TWO_THIRDS = Threshold(2, 3, True, gettext_noop("từ 2/3 trở lên"), "Điều lệ Đảng Điều 4, 5; HD 06-HD/TW điểm 3.6b")
# Vote kinds (meetings.models.Vote.Kind values) that need two thirds; every other kind more than half.
THRESHOLDS = {"admission": TWO_THIRDS, "full_membership": TWO_THIRDS}


def threshold_for(kind: str) -> Threshold:
    return THRESHOLDS.get(kind, ORDINARY)


# --- the count ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Person:
    """One member summoned, as the records of the meeting's day describe them."""

    member_id: int
    name: str
    official: bool  # official (chính thức) on the meeting's day
    presence: str  # the attendance row's presence ("" when not recorded, or no row)
    exempt: bool  # an exemption record covers the day
    suspended: bool  # a suspension record covers the day

    @property
    def present(self) -> bool:
        return self.presence in ("present", "late")


@dataclass(frozen=True)
class VoteBase:
    """The count a decision is measured against, and who makes it up (see the module's sources)."""

    day: datetime.date
    committee: bool
    official: tuple[Person, ...]  # the official members summoned
    attached_elsewhere: tuple[Person, ...]  # not counted: temporarily attached elsewhere
    exempt_absent: tuple[Person, ...]  # not counted: exempt and absent
    suspended: tuple[Person, ...]  # not counted: suspended (prosecuted, detained)
    counted: tuple[Person, ...]  # the denominator's members
    voters_present: tuple[Person, ...]  # counted and present: those who may vote
    exempt_present: tuple[Person, ...]  # counted although exempt, because they attend
    exempt_unrecorded: tuple[Person, ...]  # marked "miễn sinh hoạt" without an exemption record: counted
    probationary_present: tuple[Person, ...]  # present, without a vote

    @property
    def denominator(self) -> int:
        return len(self.counted)

    @property
    def present(self) -> int:
        return len(self.voters_present)

    @property
    def voter_ids(self) -> set[int]:
        return {person.member_id for person in self.voters_present}

    def passes(self, kind: str, votes_for: int) -> bool:
        return threshold_for(kind).passes(votes_for, self.denominator)

    def can_carry(self, threshold: Threshold) -> bool:
        """Whether those present with a vote are enough to pass a decision that needs ``threshold``."""
        return threshold.passes(self.present, self.denominator)

    @property
    def summary(self) -> str:
        """ "Số đảng viên chính thức: 9; có mặt có quyền biểu quyết: 6; biểu quyết tính trên: 9"."""
        label = _("Số chi ủy viên") if self.committee else _("Số đảng viên chính thức")
        return _("%(label)s: %(official)s; có mặt có quyền biểu quyết: %(present)s; biểu quyết tính trên: %(base)s") % {
            "label": label,
            "official": len(self.official),
            "present": self.present,
            "base": self.denominator,
        }

    @property
    def adjustments(self) -> list[str]:
        """Why the count differs from the official members summoned, and who is present without a vote."""
        parts = []

        def names(people):
            return ", ".join(person.name for person in people)

        for people, text in (
            (
                self.attached_elsewhere,
                ngettext(
                    "không tính %(n)s đồng chí sinh hoạt tạm thời nơi khác (%(names)s)",
                    "không tính %(n)s đồng chí sinh hoạt tạm thời nơi khác (%(names)s)",
                    len(self.attached_elsewhere),
                ),
            ),
            (
                self.exempt_absent,
                ngettext(
                    "không tính %(n)s đồng chí miễn sinh hoạt vắng mặt (%(names)s)",
                    "không tính %(n)s đồng chí miễn sinh hoạt vắng mặt (%(names)s)",
                    len(self.exempt_absent),
                ),
            ),
            (
                self.suspended,
                ngettext(
                    "không tính %(n)s đồng chí đang bị đình chỉ sinh hoạt đảng (%(names)s)",
                    "không tính %(n)s đồng chí đang bị đình chỉ sinh hoạt đảng (%(names)s)",
                    len(self.suspended),
                ),
            ),
            (
                self.exempt_present,
                ngettext(
                    "tính cả %(n)s đồng chí miễn sinh hoạt có mặt (%(names)s)",
                    "tính cả %(n)s đồng chí miễn sinh hoạt có mặt (%(names)s)",
                    len(self.exempt_present),
                ),
            ),
            (
                self.exempt_unrecorded,
                ngettext(
                    'tính cả %(n)s đồng chí ghi "miễn sinh hoạt" nhưng chưa có quyết định miễn (%(names)s)',
                    'tính cả %(n)s đồng chí ghi "miễn sinh hoạt" nhưng chưa có quyết định miễn (%(names)s)',
                    len(self.exempt_unrecorded),
                ),
            ),
            (
                self.probationary_present,
                ngettext(
                    "%(n)s đảng viên dự bị có mặt không biểu quyết (%(names)s)",
                    "%(n)s đảng viên dự bị có mặt không biểu quyết (%(names)s)",
                    len(self.probationary_present),
                ),
            ),
        ):
            if people:
                parts.append(text % {"n": len(people), "names": names(people)})
        return parts

    @property
    def quorum(self) -> list[dict]:
        """For each threshold: the votes for it needs against the count, and whether those present can give them."""
        rows = []
        for threshold, what in (
            (ORDINARY, _("thông qua nghị quyết, kết luận")),
            (TWO_THIRDS, _("kết nạp, công nhận đảng viên chính thức")),
        ):
            rows.append(
                {
                    "what": what,
                    "threshold": threshold,
                    "label": _(threshold.label),
                    "needed": threshold.minimum(self.denominator),
                    "met": self.can_carry(threshold),
                }
            )
        return rows

    @property
    def quorum_met(self) -> bool:
        """Those present with a vote can pass an ordinary decision (more than half of the count)."""
        return self.can_carry(ORDINARY)

    @property
    def quorum_text(self) -> str:
        if not self.denominator:
            return _("Không có đảng viên chính thức tính biểu quyết.")
        parts = []
        for row in self.quorum:
            if row["met"]:
                parts.append(
                    _("đủ để %(what)s (cần ít nhất %(needed)s/%(base)s tán thành, %(label)s)")
                    % {**row, "base": self.denominator}
                )
            else:
                parts.append(
                    _("không đủ để %(what)s (cần ít nhất %(needed)s/%(base)s tán thành, %(label)s)")
                    % {**row, "base": self.denominator}
                )
        return _("Số đảng viên có mặt có quyền biểu quyết (%(present)s) %(parts)s.") % {
            "present": self.present,
            "parts": "; ".join(parts),
        }


def tally(people: Iterable[Person], *, day: datetime.date, committee: bool = False) -> VoteBase:
    """The count from the summoned members' records; each member falls in at most one exclusion."""
    official, attached, exempt_absent, suspended, counted = [], [], [], [], []
    voters, exempt_present, exempt_unrecorded, probationary = [], [], [], []
    for person in sorted(people, key=lambda p: (p.name, p.member_id)):
        if not person.official:
            if person.present:
                probationary.append(person)
            continue
        official.append(person)
        if person.presence == "attached_elsewhere":
            attached.append(person)
        elif person.suspended:
            suspended.append(person)
        elif person.exempt and not person.present:
            exempt_absent.append(person)
        else:
            counted.append(person)
            if person.present:
                voters.append(person)
                if person.exempt:
                    exempt_present.append(person)
            elif person.presence == "exempt":
                exempt_unrecorded.append(person)
    return VoteBase(
        day=day,
        committee=committee,
        official=tuple(official),
        attached_elsewhere=tuple(attached),
        exempt_absent=tuple(exempt_absent),
        suspended=tuple(suspended),
        counted=tuple(counted),
        voters_present=tuple(voters),
        exempt_present=tuple(exempt_present),
        exempt_unrecorded=tuple(exempt_unrecorded),
        probationary_present=tuple(probationary),
    )


def official_on(member, day: datetime.date) -> bool:
    """Official on ``day``: official now, and not confirmed only after it."""
    from cells.models import Member

    if member.status != Member.Status.OFFICIAL:
        return False
    return member.full_membership_date is None or member.full_membership_date <= day


def meeting_day(meeting) -> datetime.date:
    return timezone.localdate(meeting.actual_start or meeting.planned_start)


# The chi ủy: who counts at its own meeting (QĐ 294 §9.3.3).
COMMITTEE_POSITIONS = ("bi_thu", "pho_bi_thu", "chi_uy_vien")


def summoned(meeting, day: datetime.date):
    """The members a decision of ``meeting`` is counted over: the cell's members on the day (memberships
    covering it), or, at the chi ủy's own meeting, the committee's members holding their position that day."""
    from cells.models import Member, Position

    from .models import Meeting
    from .selectors import expected_members

    if meeting.kind != Meeting.Kind.COMMITTEE:
        return expected_members(cell=meeting.organisation, on=day)
    active = Q(start__lte=day) & (Q(end__isnull=True) | Q(end__gte=day))
    ids = Position.objects.filter(active, organisation=meeting.organisation, kind__in=COMMITTEE_POSITIONS).values(
        "member_id"
    )
    return Member.objects.filter(pk__in=ids).exclude(state__in=[Member.State.DECEASED, Member.State.REMOVED])


def vote_base(meeting) -> VoteBase:
    """The one count of ``meeting``'s decisions, from the records of its day (see the module's sources)."""
    from cells.selectors import exempt_member_ids, suspended_member_ids

    from .models import Meeting

    day = meeting_day(meeting)
    members = list(summoned(meeting, day).only("pk", "full_name", "status", "full_membership_date"))
    ids = [member.pk for member in members]
    presence = dict(meeting.attendances.filter(member_id__in=ids).values_list("member_id", "presence"))
    exempt = set(exempt_member_ids(on=day).filter(member_id__in=ids).values_list("member_id", flat=True))
    suspended = set(suspended_member_ids(on=day).filter(member_id__in=ids).values_list("member_id", flat=True))
    people = [
        Person(
            member.pk,
            member.full_name,
            official_on(member, day),
            presence.get(member.pk, ""),
            member.pk in exempt,
            member.pk in suspended,
        )
        for member in members
    ]
    return tally(people, day=day, committee=meeting.kind == Meeting.Kind.COMMITTEE)


# --- a decision asked between meetings (issue #17, item 4) ----------------------------------------
#
# No source found lets a cell *decide* outside a meeting. Điều lệ Art. 9.5 and QĐ 294 §9.3 count the
# votes of a meeting; HD 03-HD/TW (27/12/2022; domain-research §5) allows a cell's *meeting* to be held
# online where more than half of its members (not counting the exempt or suspended) cannot meet in
# person — a meeting, with its time and its minutes, not answers sent over days; domain-research
# §8 names the seed's trials of "email / Zalo group" meetings without a rule for them. So the portal
# records the answers given between meetings as the cell's consultation ("lấy ý kiến đảng viên"),
# counted as a meeting's vote would be, and reports it at the cell's next meeting (its opening step
# and its minutes), where the cell adopts it: the result is not itself a resolution.
#
# How it is counted: as a meeting of the day it opens at which nobody is present yet
# (``consultation_base``) — the official members of the cell on that day, less those temporarily
# attached elsewhere (``cells.TemporaryAttachment``), the suspended and the exempt (QĐ 294 §9.3.2: an
# exempt member counts only by attending and voting; a consultation has nobody attending, and its
# list is fixed when it opens, so an exempt member is not asked). Those left are asked and make the
# denominator; the thresholds are the meeting's (``threshold_for``). Probationary members are asked
# for their opinion and have no vote (Điều lệ Art. 3.4).


def consultation_base(cell, day: datetime.date) -> tuple[VoteBase, list[Person]]:
    """The count of a decision ``cell`` is asked on ``day`` between meetings, and its probationary
    members (who give an opinion, without a vote). See the section's sources above."""
    from cells.selectors import attached_member_ids, exempt_member_ids, suspended_member_ids

    from .selectors import expected_members

    members = list(expected_members(cell=cell, on=day).only("pk", "full_name", "status", "full_membership_date"))
    ids = [member.pk for member in members]
    attached = set(attached_member_ids(on=day).filter(member_id__in=ids).values_list("member_id", flat=True))
    exempt = set(exempt_member_ids(on=day).filter(member_id__in=ids).values_list("member_id", flat=True))
    suspended = set(suspended_member_ids(on=day).filter(member_id__in=ids).values_list("member_id", flat=True))
    people = [
        Person(
            member.pk,
            member.full_name,
            official_on(member, day),
            "attached_elsewhere" if member.pk in attached else "",
            member.pk in exempt,
            member.pk in suspended,
        )
        for member in members
    ]
    base = tally(people, day=day)
    probationary = sorted(
        (p for p in people if not p.official and not (p.exempt or p.suspended or p.member_id in attached)),
        key=lambda p: (p.name, p.member_id),
    )
    return base, probationary


# --- a vote on one agenda item of an online or hybrid meeting (issue #17 item 3) ------------------
#
# Who votes on an item: the members with a vote at the meeting (``VoteBase.voters_present``: official on
# the day, summoned, counted, present) who were present *for that item* — not joined after it, not left
# before it (``Attendance.present_for``). A probationary member never votes (Điều lệ Art. 3.4). What the
# result is measured against stays the meeting's count, ``VoteBase.denominator`` (Điều lệ Art. 9.5; QĐ 294
# §9.3.2 counts the official members summoned less its exclusions, not those in the room), and the
# threshold is the vote kind's (``threshold_for``): a member who left early lowers the votes that can be
# given, never the count they are measured against.


@dataclass(frozen=True)
class ItemVoters:
    """Those who may vote on one agenda item, and the meeting's count the result is measured against."""

    base: VoteBase
    voters: tuple[Person, ...]

    @property
    def voter_ids(self) -> set[int]:
        return {person.member_id for person in self.voters}

    @property
    def denominator(self) -> int:
        return self.base.denominator


def _rows(meeting, ids):
    return {
        row.member_id: row
        for row in meeting.attendances.filter(member_id__in=ids).select_related("joined_item", "left_item")
    }


def item_voters(meeting, item, *, base: VoteBase | None = None) -> ItemVoters:
    base = base or vote_base(meeting)
    rows = _rows(meeting, base.voter_ids)
    voters = tuple(p for p in base.voters_present if p.member_id in rows and rows[p.member_id].present_for(item))
    return ItemVoters(base=base, voters=voters)


def vote_refusal(meeting, item, member, *, base: VoteBase | None = None) -> str | None:
    """Why ``member`` may not vote on ``item`` of ``meeting``, as the member reads it; None when they may."""
    base = base or vote_base(meeting)
    row = meeting.attendances.filter(member=member).select_related("joined_item", "left_item").first()
    if row is None or not summoned(meeting, base.day).filter(pk=member.pk).exists():
        return _("Đồng chí không có trong danh sách triệu tập của buổi sinh hoạt này.")
    if not official_on(member, base.day):
        return _(
            "Đảng viên dự bị không có quyền biểu quyết (Điều lệ Đảng, Điều 3 khoản 4); "
            "đồng chí vẫn có thể gửi ý kiến bằng văn bản."
        )
    if member.pk in {person.member_id for person in base.attached_elsewhere + base.suspended}:
        return _(
            "Đồng chí không thuộc số đảng viên tính biểu quyết của buổi sinh hoạt này "
            "(sinh hoạt tạm thời nơi khác hoặc đang bị đình chỉ sinh hoạt đảng)."
        )
    if not row.is_present or member.pk not in base.voter_ids:
        return _("Đồng chí chưa được ghi nhận có mặt; hãy bấm “Xác nhận có mặt” trước khi biểu quyết.")
    if not row.present_for(item):
        if row.joined_item_id and (row.joined_item.order, row.joined_item.pk) > (item.order, item.pk):
            return _(
                "Đồng chí tham gia từ nội dung %(order)s, sau nội dung này, nên không biểu quyết nội dung này."
            ) % {"order": row.joined_item.order}
        return _(
            "Đồng chí đã rời buổi sinh hoạt sau nội dung %(order)s, trước nội dung này, "
            "nên không biểu quyết nội dung này."
        ) % {"order": row.left_item.order}
    return None
