"""Bad input on the dues book and on the meeting score sheet: a clear error or a correct save."""

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone
from hypothesis import event, given, settings
from hypothesis import strategies as st

from cells.models import AuditEntry, DuesPayment
from scoring import services as scoring_services
from scoring.engine import iter_criteria
from scoring.models import MeetingScore
from scoring.schemes import CHOICE, plain_number
from tests.factories import make_member
from tests.scoring.conftest import build_meeting, local

from .conftest import any_text, date_text, number_text, parse_vn_date, rolled_back, row_counts

pytestmark = pytest.mark.django_db

amount_text = st.one_of(st.integers(min_value=0, max_value=200_000).map(str), number_text)
month_text = st.one_of(
    st.sampled_from(
        ["", "03/2026", "2026-03", "00/2026", "13/2026", "01/0001", "12/9999", "02/1899", "3/2026", "03/26", "tháng 3"]
    ),
    st.dates().map(lambda day: f"{day.month:02d}/{day.year:04d}"),
    st.text(max_size=10),
)


def money(text: str) -> int:
    """How the form reads an amount typed as on paper ("60.000", "60 000 đ")."""
    text = text.strip().lower().removesuffix("đ").strip()
    return int(text.replace(".", "").replace(",", "").replace(" ", "").replace("\u00a0", ""))


dues_overrides = st.fixed_dictionaries(
    {},
    optional={
        "member": st.sampled_from(["sibling", "999999999", "", "abc"]),
        "month": month_text,
        "amount_paid": amount_text,
        "paid_on": st.one_of(st.just(""), date_text),
        "method": st.sampled_from([*DuesPayment.Method.values, "", "bitcoin"]),
        "note": any_text,
    },
)


@given(overrides=dues_overrides)
def test_dues_payment_is_recorded_as_typed_or_refused(client_for, people, tree, overrides):
    client = client_for(people.secretary)
    today = timezone.localdate()
    posted = {
        "member": people.members["member"].pk,
        "month": f"{today:%m/%Y}",
        "amount_paid": "10.000",
        "paid_on": f"{today:%d/%m/%Y}",
        "method": "cash",
        "note": "Nộp thêm",
    }
    posted.update(overrides)
    if posted["member"] == "sibling":
        posted["member"] = people.members["sibling"].pk
    member_id, amount, note = posted["member"], posted["amount_paid"], posted["note"]
    paid_on, method = posted["paid_on"], posted["method"]
    tables = (DuesPayment, AuditEntry)
    with rolled_back():
        before = row_counts(*tables)
        response = client.post(reverse("books:books_dues_record", args=[tree.cell.pk]), posted)
        event(f"status {response.status_code}")
        if response.status_code == 302:
            line = DuesPayment.objects.get(member_id=member_id)
            assert line.amount_paid == money(amount)
            assert line.note == note.strip()
            if line.amount_paid:
                assert line.paid_on == parse_vn_date(paid_on) and line.method == method
            assert client.get(response["Location"]).status_code == 200
        else:
            assert response.status_code == 200
            assert response.context["form"].errors
            assert row_counts(*tables) == before


@given(month=month_text)
def test_dues_ledger_opens_for_any_month_in_the_address(client_for, people, tree, month):
    client = client_for(people.secretary)
    response = client.get(reverse("books:books_dues_ledger", args=[tree.cell.pk]), {"thang": month})
    assert response.status_code == 200


@pytest.fixture
def draft_score(tree, people):
    """A held March 2026 meeting of a ten-member cell with the proposed (not yet adopted) score."""
    for n in range(3, 11):
        make_member(organisation=tree.cell, full_name=f"Đảng Viên {n:02d}")
    meeting = build_meeting(
        tree.cell, start=local(2026, 3, 17), chair=people.members["secretary"], clerk=people.members["member"]
    )
    return scoring_services.meeting_score_prefill(meeting=meeting, by=people.secretary)


def points_text(criterion, line, *, valid: bool):
    options = [str(plain_number(option["points"])) for option in criterion.get("options") or []]
    if criterion.get("kind") == CHOICE:
        if valid:
            return st.sampled_from(["", *options])
        return st.one_of(st.sampled_from(["-1", "0.5", "x", "\x00"]), number_text)
    if valid:
        return st.one_of(st.just(""), st.decimals(min_value=0, max_value=line.max_points, places=2).map(str))
    return st.one_of(
        number_text,
        any_text,
        st.sampled_from(
            ["-0.01", "0.001", str(line.max_points + 1), "1e2", "1,5", "NaN", "sNaN", "-Infinity", "9" * 400]
        ),
    )


def expected_points(text: str):
    return None if text.strip() == "" else Decimal(text.strip()).quantize(Decimal("0.01"))


@settings(max_examples=25)  # each example renders the whole score sheet
@given(data=st.data())
def test_score_sheet_saves_every_point_or_none(client_for, people, draft_score, data):
    client = client_for(people.secretary)
    score = draft_score
    criteria = {
        (group["code"], criterion["code"]): criterion for group, criterion in iter_criteria(score.scheme_snapshot)
    }
    lines = list(score.lines.filter(applicable=True).order_by("order"))
    # Every line well-formed, or one line (anywhere on the sheet) given something odd.
    odd = data.draw(st.one_of(st.none(), st.integers(min_value=0, max_value=len(lines) - 1)))
    posted = {
        f"line_{line.pk}": data.draw(
            points_text(criteria[(line.group_code, line.criterion_code)], line, valid=index != odd)
        )
        for index, line in enumerate(lines)
    }
    posted["weaknesses"] = data.draw(any_text)
    with rolled_back():
        before = (
            {line.pk: line.self_points for line in score.lines.all()},
            row_counts(AuditEntry),
            MeetingScore.objects.get(pk=score.pk).weaknesses,
        )
        response = client.post(reverse("scoring:self_score", args=[score.meeting_id]), posted)
        event(f"status {response.status_code}")
        if response.status_code == 302:
            saved = {line.pk: line.self_points for line in score.lines.all()}
            for line in lines:
                assert saved[line.pk] == expected_points(posted[f"line_{line.pk}"]), line.criterion_code
            assert MeetingScore.objects.get(pk=score.pk).weaknesses == posted["weaknesses"].strip()
        else:
            assert response.status_code == 200
            assert response.context["form"].errors
            after = (
                {line.pk: line.self_points for line in score.lines.all()},
                row_counts(AuditEntry),
                MeetingScore.objects.get(pk=score.pk).weaknesses,
            )
            assert after == before


def test_dues_month_parser_refuses_years_that_are_typos():
    from lib.dates import parse_month

    assert parse_month("03/2026") == datetime.date(2026, 3, 1)
    assert parse_month("12/9999") is None and parse_month("01/0001") is None
