"""lib.replica with a replica that cannot be reached (any database: the primary answers): the dashboard, its
exports and drill-downs and the annual report's reads fall back to the primary, the replica is asked once
per REPLICA_CHECK_SECONDS; the read-your-writes cookie; the router's answers with a replica configured."""

import pytest
from django.contrib.auth import get_user_model
from django.db import router
from django.urls import reverse

from lib import replica

from ..faults.server import free_port
from ..replica import replica_alias

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "replica"])


@pytest.fixture(autouse=True)
def _fresh_health():
    replica.reset_health()
    yield
    replica.reset_health()


@pytest.fixture(scope="module", autouse=True)
def unreachable_replica():
    """A replica configured on a port nobody listens on: every connection to it is refused.

    Module-scoped, so that the alias exists before pytest-django builds each test's case (``databases``).
    """
    with replica_alias(
        ENGINE="django.db.backends.postgresql",
        HOST="127.0.0.1",
        PORT=str(free_port()),
        NAME="portal",
        USER="postgres",
        OPTIONS={"connect_timeout": 2},
    ):
        yield


def test_an_unreachable_replica_leaves_the_dashboard_on_the_primary(tree, people, client_for):
    client = client_for(people.admin)
    url = reverse("reports:dashboard", args=[tree.khoi.pk])
    response = client.get(url)
    assert response.status_code == 200 and tree.tccs.name in response.text
    checked = replica.last_check()
    assert checked is not None and replica.replica_lag() is None and not replica.replica_usable()
    # Within REPLICA_CHECK_SECONDS the next pages do not try the replica again.
    assert client.get(url + "?format=xlsx").status_code == 200
    assert client.get(reverse("reports:drill", args=[tree.khoi.pk, "regular"])).status_code == 200
    assert replica.last_check() == checked
    # Outside a request, the annual report's reads fall back the same way.
    with replica.replica_reads() as on_replica:
        assert on_replica is False and router.db_for_read(get_user_model()) == "default"


def test_after_a_write_the_browser_reads_from_the_primary_for_the_set_time(
    tree, people, client_for, settings, time_machine
):
    time_machine.move_to("2026-12-03 09:00 +07:00", tick=False)
    client = client_for(people.admin)
    url = reverse("reports:dashboard", args=[tree.khoi.pk])
    response = client.post(reverse("set_language"), {"language": "vi", "next": url})
    cookie = response.cookies[replica.COOKIE]
    assert cookie["max-age"] == settings.READ_YOUR_WRITES_SECONDS == 10 and cookie["httponly"]
    # The writer's next page: on the primary without asking the replica.
    assert client.get(url).status_code == 200 and replica.last_check() is None
    time_machine.move_to("2026-12-03 09:00:09 +07:00", tick=False)
    assert client.get(url).status_code == 200 and replica.last_check() is None
    # Ten seconds on, the dashboard may read the replica again: it is asked (and, refused, the primary answers).
    time_machine.move_to("2026-12-03 09:00:11 +07:00", tick=False)
    assert client.get(url).status_code == 200 and replica.last_check() is not None
    # A GET sets no cookie; a forged one does not pin.
    assert replica.COOKIE not in client.get(url).cookies
    replica.reset_health()
    client.cookies[replica.COOKIE] = "1"
    assert client.get(url).status_code == 200 and replica.last_check() is not None


def test_the_router_sends_writes_to_the_primary_and_never_migrates_the_replica(people):
    routing, User = replica.ReplicaRouter(), get_user_model()
    assert routing.db_for_write(User) == "default" and routing.allow_migrate("replica", "cells") is False
    assert routing.allow_migrate("default", "cells") is None
    assert routing.allow_relation(people.admin, people.viewer) is True
