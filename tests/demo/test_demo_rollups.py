"""The demo Khối's monthly rollups (issue #20): built with the demo, equal to a fresh count, and every
dashboard of the Khối and its đảng bộ shows from them exactly the figures counted from the records."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.test.utils import override_settings
from django.utils import timezone

from cells.models import Organisation
from demo.cells import reset_demo
from demo.meetings import reset_demo_meetings
from reports import rollups
from reports.dashboard import dashboard_page
from reports.figures import figures_by_group
from reports.models import MonthlyRollup
from reports.periods import Period

from ..factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def seeded(django_db_setup, django_db_blocker, tmp_path_factory):
    media = tmp_path_factory.mktemp("seed-media")
    with override_settings(MEDIA_ROOT=media), django_db_blocker.unblock():
        call_command("seed_demo", stdout=StringIO())
    yield
    with override_settings(MEDIA_ROOT=media), django_db_blocker.unblock(), rollups.suspended():
        reset_demo_meetings()
        reset_demo()


def _figures(groups: dict) -> dict:
    return {
        grp: {code: (round(f.num, 6), f.den, f.pending, f.status, f.display) for code, f in figures.items()}
        for grp, figures in groups.items()
    }


def test_the_demo_rollups_equal_a_fresh_count(seeded):
    assert MonthlyRollup.objects.exists()
    drift = rollups.verify(repair=False)
    assert drift.checked > 0
    assert drift.repaired == []


def test_every_dashboard_of_the_demo_shows_the_same_figures_from_the_rollups(seeded):
    khoi = Organisation.objects.get(kind=Organisation.Kind.KHOI)
    today = timezone.localdate()
    scopes = [khoi, *Organisation.objects.filter(parent=khoi, kind__in=Organisation.TCCS_KINDS).order_by("path")]
    user = UserFactory()
    for period in (Period(today.year), Period(today.year - 1), Period(today.year, month=today.month)):
        for scope in scopes:
            pages = [dashboard_page(user=user, scope=scope, period=period, source=s) for s in ("rollups", "records")]
            shown = [
                (
                    [
                        (r["figure"].display, r["figure"].status, r["figure"].pending_display)
                        for r in page["total_rows"]
                    ],
                    [[(f.display, f.status) for f in row["figures"]] for row in page["rows"]],
                    page["distribution"],
                    page["heat_groups"]
                    and page["heat_groups"]["rows"]
                    and [r["slots"] for r in page["heat_groups"]["rows"]],
                )
                for page in pages
            ]
            assert shown[0] == shown[1], (scope.name, period)
        # The annual report's cell level: grouped by cell.
        _t, by_cell = figures_by_group(scope=khoi, period=period, length=None, source="rollups")
        _t, by_cell_records = figures_by_group(scope=khoi, period=period, length=None, source="records")
        assert _figures(by_cell) == _figures(by_cell_records)
