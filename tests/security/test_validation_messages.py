"""Issue 15 item 7: every message a main form answers to bad input is Vietnamese, written as the
portal writes — no stock "Đảm bảo giá trị này là nhỏ hơn hoặc bằng với 3.00 ." (Django's vi
catalogue puts a space before the full stop and lacks Django 5.2's strings: locale/vi overrides it)."""

import re

import pytest
from django.forms import BaseForm, BaseFormSet
from django.urls import reverse
from django.utils import translation

from scoring import services as scoring_services
from tests.scoring.conftest import build_meeting, local

pytestmark = pytest.mark.django_db

# A Vietnamese sentence has at least one letter outside ASCII (ă â đ ê ô ơ ư or a tone mark).
VIETNAMESE = re.compile(r"[À-ỹĐđ]")


def form_messages(response) -> list[str]:
    """Every error of every form (and formset) the page was rendered with."""
    found, seen = [], set()
    for context in response.context or []:
        for layer in getattr(context, "dicts", [context]):
            for value in layer.values():
                forms = (
                    [value]
                    if isinstance(value, BaseForm)
                    else ([*value.forms, value] if isinstance(value, BaseFormSet) else [])
                )
                for form in forms:
                    if id(form) in seen:
                        continue
                    seen.add(id(form))
                    if isinstance(form, BaseFormSet):
                        found += [str(m) for m in form.non_form_errors()]
                        continue
                    for errors in form.errors.values():
                        found += [str(m) for m in errors]
    return found


def assert_portal_messages(messages, *expected):
    assert messages, "the bad input was accepted: no message to check"
    for message in messages:
        assert not re.search(r"\s[.,:;!?)]", message), f"stray space before punctuation: {message!r}"
        assert "  " not in message, message
        assert VIETNAMESE.search(message), f"not Vietnamese: {message!r}"
    for text in expected:
        assert text in messages, (text, messages)


@pytest.fixture
def scored(tree, people):
    meeting = build_meeting(tree.cell, start=local(2026, 3, 17))
    score = scoring_services.meeting_score_prefill(meeting=meeting, by=people.secretary)
    return meeting, score


def test_the_score_sheet_says_the_maximum_as_a_scorer_writes_it(client_for, people, scored):
    meeting, _score = scored
    client = client_for(people.secretary)
    url = reverse("scoring:self_score", args=[meeting.pk])
    form = client.get(url).context["form"]
    # A criterion scored by number whose maximum is whole (HD 42: 5, 10, 40 ... points).
    name, limit = next(
        (name, form.fields[name].max_value)
        for _line, name in form.lines
        if type(form.fields[name]).__name__ == "DecimalField"
        and form.fields[name].max_value == int(form.fields[name].max_value)
    )
    assert str(limit).endswith(".00")  # stored as 5.00: the stock message said "5.00 ."
    too_high = client.post(url, {name: str(limit + 50)})
    assert_portal_messages(form_messages(too_high), f"Điểm tối đa là {int(limit)}.")
    assert_portal_messages(form_messages(client.post(url, {name: "-1"})), "Điểm không được âm.")
    assert_portal_messages(form_messages(client.post(url, {name: "abc"})), "Nhập điểm bằng chữ số, ví dụ 2.5.")


def test_a_self_rating_above_one_hundred(client_for, people, tree):
    rating = next(
        r
        for r in scoring_services.annual_rating_open(cell=tree.cell, year=2026)
        if r.member_id == people.members["member"].pk
    )
    response = client_for(people.member).post(
        reverse("scoring:rating_self", args=[rating.pk]), {"level": "", "score": "150.5"}
    )
    assert_portal_messages(form_messages(response), "Điểm tối đa là 100.")


def test_a_vote_with_negative_counts(client_for, people, scored):
    meeting, _score = scored
    response = client_for(people.secretary).post(
        reverse("meetings:vote_add", args=[meeting.pk]), {"question": "", "votes_for": "-1", "votes_against": "x"}
    )
    assert_portal_messages(form_messages(response), "Số phiếu không được âm.", "Nhập số phiếu bằng chữ số.")


def test_a_meeting_plan_with_bad_dates(client_for, people, tree):
    response = client_for(people.secretary).post(
        reverse("meetings:create", args=[tree.cell.pk]),
        {"kind": "khong-co", "planned_start": "31/02/2026 25:00", "planned_end": "", "period_month": "13/2026"},
    )
    assert_portal_messages(form_messages(response))


def test_a_member_with_bad_values(client_for, people, tree):
    response = client_for(people.admin).post(
        reverse("cells:member_create"),
        {
            "full_name": "",
            "date_of_birth": "30/02/1990",
            "email": "khong-phai-thu",
            "organisation": "999999",
            "dues_base": "-5",
            "sex": "x",
            "status": "y",
        },
    )
    assert_portal_messages(form_messages(response))


def test_dues_with_a_negative_amount(client_for, people, tree):
    response = client_for(people.secretary).post(
        reverse("books:books_dues_record", args=[tree.cell.pk]),
        {"member": "999999", "month": "14/2026", "amount_paid": "-10", "paid_on": "32/01/2026", "method": "x"},
    )
    assert_portal_messages(form_messages(response), "Số tiền không được âm.")


def test_the_password_forms(client_for, client, people):
    logged_in = client_for(people.secretary)
    response = logged_in.post(
        reverse("password_change"), {"old_password": "sai", "new_password1": "123", "new_password2": "456"}
    )
    assert_portal_messages(form_messages(response))
    response = logged_in.post(
        reverse("password_change"), {"old_password": "", "new_password1": "1", "new_password2": "1"}
    )
    assert_portal_messages(form_messages(response))
    logged_in.logout()
    assert_portal_messages(form_messages(client.post(reverse("password_reset"), {"email": "a@"})))
    assert_portal_messages(form_messages(client.post(reverse("login"), {"username": "x", "password": "y"})))


def test_the_stock_validators_read_in_vietnamese_everywhere():
    """The model and form fields Django's own validators guard (the admin's forms among them)."""
    from decimal import Decimal

    from django import forms
    from django.core.exceptions import ValidationError

    with translation.override("vi"):
        checks = [
            (forms.DecimalField(max_value=Decimal("3.00")), "9", "Giá trị tối đa là 3.00."),
            (forms.IntegerField(min_value=1), "0", "Giá trị tối thiểu là 1."),
            (forms.CharField(max_length=3), "abcd", None),
            (forms.EmailField(), "x", None),
            (forms.DateField(), "x", None),
            (forms.SlugField(), "a b", None),
            (forms.JSONField(), "{", None),
            (forms.DurationField(), "x", None),
        ]
        for field, value, expected in checks:
            with pytest.raises(ValidationError) as raised:
                field.clean(value)
            assert_portal_messages(raised.value.messages, *([expected] if expected else []))
