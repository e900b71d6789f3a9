"""Hypothesis settings and shared pieces for the property-based tests of forms and the member import.

Profiles: "ci" (used when REQUIRE_SERVICES=1, as .ci/run sets it, or with ``--hypothesis-profile=ci``)
is derandomized so a CI run is reproducible; "dev" draws a fresh seed per run and prints it at the end
of the run, so a failure seen locally can be replayed with ``--hypothesis-seed=<seed>``.

Every property test uses function-scoped pytest fixtures (``db``, ``tree``, ``people``, the test
client) together with ``@given``. Hypothesis warns about that (HealthCheck.function_scoped_fixture)
because such fixtures are set up once for all the examples of a test, not once per example. That is
what we want here and it is safe: the fixtures build the organisations and users that every example
shares and never changes, and each example runs inside ``rolled_back()`` (a savepoint inside
pytest-django's per-test transaction) that is rolled back when the example ends, so no example sees
the rows written by another. The check is therefore suppressed deliberately, in the profiles below.
"""

import contextlib
import datetime
import random

import hypothesis
from django.db import transaction
from hypothesis import HealthCheck
from hypothesis import strategies as st

from ..conftest import REQUIRE_SERVICES

COMMON = {
    "max_examples": 30,
    "deadline": None,  # a request through the full Django stack on a shared 2-core machine has no stable timing
    # function_scoped_fixture: deliberate, see the module docstring. too_slow: generating a workbook per
    # example on a 2-core machine shared with other jobs can pass Hypothesis's generation-time budget.
    "suppress_health_check": [HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    "database": None,  # no .hypothesis/ directory in the working tree; replay with the printed seed instead
}
hypothesis.settings.register_profile("ci", derandomize=True, print_blob=True, **COMMON)
hypothesis.settings.register_profile("dev", print_blob=True, **COMMON)

_seed = None


def pytest_configure(config):
    global _seed
    chosen = config.getoption("hypothesis_profile", None)
    if chosen:
        return  # --hypothesis-profile given: Hypothesis's own plugin has loaded it
    if REQUIRE_SERVICES:
        hypothesis.settings.load_profile("ci")
        return
    hypothesis.settings.load_profile("dev")
    if config.getoption("hypothesis_seed", None) is None:
        # The same thing --hypothesis-seed does, with a seed we know and can print.
        _seed = random.SystemRandom().getrandbits(32)
        hypothesis.core.global_force_seed = _seed


def pytest_terminal_summary(terminalreporter):
    if _seed is not None:
        terminalreporter.write_line(f"hypothesis seed {_seed}: re-run with --hypothesis-seed={_seed} to replay")


@contextlib.contextmanager
def rolled_back():
    """Run one example in a savepoint and undo everything it wrote, whatever the outcome."""
    with transaction.atomic():
        yield
        transaction.set_rollback(True)


def row_counts(*models) -> dict:
    return {model._meta.label: model.objects.count() for model in models}


def assert_rejected_cleanly(response, before, *tables):
    """A refused form comes back with its errors, and nothing of it is in the database."""
    assert response.status_code == 200
    assert response.context["form"].errors, "a 200 after a POST must show why the form was refused"
    assert row_counts(*tables) == before


def vn_date(day: datetime.date) -> str:
    """dd/mm/yyyy with a four-digit year (strftime writes year 1 as "1")."""
    return f"{day.day:02d}/{day.month:02d}/{day.year:04d}"


def parse_vn_date(text: str) -> datetime.date | None:
    """The formats the date fields accept, read independently of the form code."""
    for pattern in ("%d/%m/%Y", "%d-%m-%Y", "%Y-%m-%d"):
        try:
            return datetime.datetime.strptime(text.strip(), pattern).date()
        except ValueError:
            continue
    return None


# Text a user (or a script) can type or paste: control characters, NUL, bidi overrides, emoji,
# combining marks, very long strings. Lone surrogates are left out: they cannot be sent as UTF-8.
ODD_STRINGS = [
    "",
    " ",
    "\x00",
    "Nguyễn\x00Văn",
    "\x01\x02\x1f\x7f",
    "\t\r\n",
    "\u202eمرحبا\u202c",
    "שלום עולם",
    "👍🏽👨‍👩‍👧",
    "e\u0301\u0301\u0301",
    "\ufeffBOM",
    "Ⅻ",
    "<script>alert(1)</script>",
    "' OR 1=1 --",
    "=1+1",
    "@SUM(A1)",
    "+cmd|' /C calc'!A0",
    "-2+3",
    "NaN",
    "Infinity",
    "1e309",
    "9" * 40,
    "Nguyễn Văn " * 30,
    "x" * 5000,
]
any_text = st.one_of(
    st.sampled_from(ODD_STRINGS),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=60),
    st.text(alphabet=st.characters(codec="utf-8"), min_size=200, max_size=400),
)
ODD_DATES = [
    "0001-01-01",
    "01/01/0001",
    "31/12/9999",
    "9999-12-31",
    "31/02/2024",
    "29/02/2023",
    "00/00/0000",
    "32/01/2020",
    "01/13/2020",
    "1/1/1",
    "01/01/10000",
    "15/03/1985",
    "2026-02-05",
    "hôm nay",
    "1e9",
    "-1",
    "٠١/٠١/٢٠٢٠",
    "01/01/2020 00:00",
    "",
]
date_text = st.one_of(
    st.sampled_from(ODD_DATES),
    st.dates().map(vn_date),
    st.dates().map(lambda day: day.isoformat()),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=12),
)
number_text = st.one_of(
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    st.sampled_from(
        ["", "0", "-0", "1.5", "1,5", "60.000", "60 000 đ", "1e6", "NaN", "inf", "9" * 60, "0x10", "١٢٣", "  7 "]
    ),
    st.decimals(allow_nan=True, allow_infinity=True).map(str),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=10),
)
