"""Yearly rating: who is rated, the evidence, the steps, the quota warning and the cell's HTXSNV rule."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from cells import services as cell_services
from cells.models import AuditEntry, MemberCommitment
from meetings.models import Attendance
from scoring import selectors, services
from scoring.models import AnnualRating, RatingAmendment, RatingLevel, RatingRegime
from tests.factories import make_member

from .conftest import build_meeting, local

pytestmark = pytest.mark.django_db
XS, TT, HT, KHT = RatingLevel.EXCELLENT, RatingLevel.GOOD, RatingLevel.DONE, RatingLevel.FAILED


def _rate(rating, level, *, by=None, acknowledge=False):
    services.annual_rating_self_assess(rating=rating, level=level, by=by)
    services.annual_rating_propose(rating=rating, level=level, by=by)
    return services.annual_rating_decide(rating=rating, level=level, acknowledge_warnings=acknowledge, by=by)


def test_exempt_suspended_and_newly_admitted_members_are_not_rated(tree, cell_of_ten):
    cell_services.member_suspend(member=cell_of_ten[7], reason="Đình chỉ", start=datetime.date(2026, 6, 1))
    recent = make_member(
        organisation=tree.cell, full_name="Mới Kết Nạp", admission_decision_date=datetime.date(2026, 7, 15)
    )
    old_enough = make_member(
        organisation=tree.cell, full_name="Đủ Sáu Tháng", admission_decision_date=datetime.date(2026, 6, 30)
    )
    rows = services.annual_rating_open(cell=tree.cell, year=2026)
    rated = {row.member_id for row in rows if row.member_id}
    assert cell_of_ten[9].pk not in rated and cell_of_ten[7].pk not in rated and recent.pk not in rated
    assert old_enough.pk in rated and len(rated) == 9
    assert any(row.member_id is None for row in rows)  # the cell itself
    regime = selectors.regime_for(2026)
    reasons = dict(
        (member.full_name, reason)
        for member, reason in selectors.not_rated_members(cell=tree.cell, year=2026, regime=regime)
    )
    assert reasons["Mới Kết Nạp"] == "Kết nạp chưa đủ 6 tháng"
    assert "Miễn công tác" in reasons[cell_of_ten[9].full_name]


def test_member_evidence_is_prefilled_from_the_records(tree, people, cell_of_ten):
    member = cell_of_ten[2]
    build_meeting(tree.cell, start=local(2026, 2, 10), tasks=[("Việc", [member])])
    build_meeting(tree.cell, start=local(2026, 3, 10), absent={member: (Attendance.Presence.ABSENT_UNEXCUSED, "")})
    MemberCommitment.objects.create(member=member, year=2026, content="Cam kết")
    services.annual_rating_open(cell=tree.cell, year=2026)
    evidence = AnnualRating.objects.get(member=member, year=2026).evidence
    assert evidence["attendance_present"] == 1 and evidence["attendance_expected"] == 2
    assert evidence["attendance_percent"] == 50.0 and evidence["unexcused_absences"] == 1
    assert evidence["commitment"] is True and evidence["dues_months"] == 0


def test_quota_warns_before_the_decision_and_needs_acknowledging(tree, people, cell_of_ten):
    rows = [row for row in services.annual_rating_open(cell=tree.cell, year=2026) if row.member_id]
    assert len(rows) == 9
    # 1 HTXSNV beside 7 rated HTTNV: allowed is floor(20 % × 7) = 1.
    for row in rows[:7]:
        _rate(row, TT)
    _rate(rows[7], XS)
    # A second HTXSNV: still 7 HTTNV -> allowed floor(1.4) = 1, so a warning first.
    last = rows[8]
    services.annual_rating_self_assess(rating=last, level=XS)
    services.annual_rating_propose(rating=last, level=XS)
    warnings = services.annual_rating_warnings(rating=last, level=XS)
    assert warnings and "2 đảng viên HTXSNV" in warnings[0] and "tối đa 1" in warnings[0]
    with pytest.raises(ValidationError) as error:
        services.annual_rating_decide(rating=last, level=XS, by=people.officer)
    assert "acknowledge_warnings" in error.value.error_dict
    assert AnnualRating.objects.get(pk=last.pk).decided_level == ""
    services.annual_rating_decide(rating=last, level=XS, acknowledge_warnings=True, by=people.officer)
    assert AuditEntry.objects.filter(action="scoring.annualrating.decide", actor=people.officer).count() == 1


def test_quota_is_configurable(tree, cell_of_ten):
    RatingRegime.objects.update(excellent_quota_percent=None)
    rows = [row for row in services.annual_rating_open(cell=tree.cell, year=2026) if row.member_id]
    services.annual_rating_self_assess(rating=rows[0], level=XS)
    services.annual_rating_propose(rating=rows[0], level=XS)
    assert services.annual_rating_warnings(rating=rows[0], level=XS) == []


def test_cell_htxsnv_needs_all_members_htnv_and_80_percent_httnv(tree, cell_of_ten):
    rows = services.annual_rating_open(cell=tree.cell, year=2026)
    cell_rating = next(row for row in rows if row.member_id is None)
    members = [row for row in rows if row.member_id]
    for row in members[:7]:
        _rate(row, TT, acknowledge=True)
    _rate(members[7], HT)
    _rate(members[8], HT)  # 7 of 9 HTTNV = 77.8 % < 80 %
    services.annual_rating_self_assess(rating=cell_rating, level=XS)
    with pytest.raises(ValidationError, match="77,8%"):
        services.annual_rating_propose(rating=cell_rating, level=XS)
    services.annual_rating_decide(rating=members[8], level=TT, note="Xem lại", acknowledge_warnings=True)
    assert services.annual_rating_propose(rating=cell_rating, level=XS).proposed_level == XS
    services.annual_rating_decide(rating=members[0], level=KHT, note="Vi phạm", acknowledge_warnings=True)
    with pytest.raises(ValidationError, match="HTNV trở lên"):
        services.annual_rating_decide(rating=cell_rating, level=XS)


def test_decision_different_from_the_proposal_needs_a_reason(tree, cell_of_ten):
    row = next(r for r in services.annual_rating_open(cell=tree.cell, year=2026) if r.member_id)
    services.annual_rating_self_assess(rating=row, level=TT)
    services.annual_rating_propose(rating=row, level=TT)
    with pytest.raises(ValidationError) as error:
        services.annual_rating_decide(rating=row, level=HT)
    assert "note" in error.value.error_dict


def test_a_tccs_is_rated_from_its_cells_and_decided_by_the_khoi(client_for, tree, people, cell_of_ten):
    rows = services.annual_rating_open(cell=tree.tccs, year=2026)
    assert len(rows) == 1 and rows[0].member_id is None
    tccs_rating = rows[0]
    services.annual_rating_self_assess(rating=tccs_rating, level=XS, by=people.officer)
    with pytest.raises(ValidationError, match="tổ chức trực thuộc"):
        services.annual_rating_propose(rating=tccs_rating, level=XS)
    for cell in (tree.cell, tree.sibling):
        cell_row = next(r for r in services.annual_rating_open(cell=cell, year=2026) if r.member_id is None)
        _rate(cell_row, TT)
    services.annual_rating_propose(rating=tccs_rating, level=HT, by=people.admin)
    url = reverse("scoring:rating_decide", args=[tccs_rating.pk])
    assert client_for(people.officer).get(url).status_code == 403  # a TCCS does not decide its own rating
    assert client_for(people.admin).post(url, {"level": "htnv", "note": ""}).status_code == 302
    assert AnnualRating.objects.get(pk=tccs_rating.pk).decided_level == HT


def test_a_decided_rating_changes_only_with_an_amendment_row(tree, people, cell_of_ten):
    row = next(r for r in services.annual_rating_open(cell=tree.cell, year=2026) if r.member_id)
    services.annual_rating_self_assess(rating=row, level=TT)
    services.annual_rating_propose(rating=row, level=TT)
    services.annual_rating_decide(rating=row, level=TT, note="Quyết định 12-QĐ/ĐU", by=people.officer)
    decided_at = AnnualRating.objects.get(pk=row.pk).decided_at

    with pytest.raises(ValidationError) as error:  # no reason: nothing changes
        services.annual_rating_decide(rating=row, level=HT, by=people.officer)
    assert "note" in error.value.error_dict
    with pytest.raises(ValidationError) as error:  # the same level is not an amendment
        services.annual_rating_decide(rating=row, level=TT, note="Lý do", by=people.officer)
    assert "level" in error.value.error_dict
    assert RatingAmendment.objects.count() == 0
    assert AnnualRating.objects.get(pk=row.pk).decided_level == TT

    services.annual_rating_decide(rating=row, level=HT, note="Phát hiện vi phạm sau kiểm tra", by=people.officer)
    row.refresh_from_db()
    amendment = RatingAmendment.objects.get(rating=row)
    assert (amendment.level_before, amendment.level_after, amendment.by) == (TT, HT, people.officer)
    assert amendment.reason == "Phát hiện vi phạm sau kiểm tra"
    # The original decision stays on record; only the level moves.
    assert row.decided_level == HT and row.decision_note == "Quyết định 12-QĐ/ĐU" and row.decided_at == decided_at
    audit = AuditEntry.objects.get(action="scoring.annualrating.amend")
    assert audit.before["decided_level"] == TT and audit.after["decided_level"] == HT


def test_the_rating_page_lists_amendments_and_the_form_refuses_one_without_a_reason(
    client_for, tree, people, cell_of_ten
):
    row = next(r for r in services.annual_rating_open(cell=tree.cell, year=2026) if r.member_id)
    _rate(row, TT, by=people.officer)
    client = client_for(people.officer)
    url = reverse("scoring:rating_decide", args=[row.pk])
    response = client.post(url, {"level": HT, "note": ""})
    assert response.status_code == 200
    assert "cần ghi lý do sửa đổi" in response.content.decode()
    assert RatingAmendment.objects.count() == 0
    response = client.post(url, {"level": HT, "note": "Kết luận kiểm tra"})
    assert response.status_code == 302
    page = client.get(reverse("scoring:rating_detail", args=[row.pk])).content.decode()
    assert "Các lần sửa quyết định" in page and "Kết luận kiểm tra" in page
