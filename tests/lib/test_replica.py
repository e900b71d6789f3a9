"""lib.replica with no replica configured: nothing changes (routes, middleware, queries); and
DATABASE_REPLICA_URL's start-up checks. A replica that cannot be reached: test_replica_fallback.py; the
real streaming replica: tests/faults/test_replica.py."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import MiddlewareNotUsed
from django.db import connections, router
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from lib import replica
from reports import views

ROOT = Path(__file__).resolve().parents[2]


def test_without_a_replica_every_route_is_the_default_database():
    User = get_user_model()
    assert not replica.configured() and "replica" not in connections
    with replica.replica_reads() as on_replica:
        assert on_replica is False and not replica.reading_from_replica()
        assert router.db_for_read(User) == "default" and router.db_for_write(User) == "default"
    routing = replica.ReplicaRouter()
    assert routing.db_for_read(User) is None and routing.db_for_write(User) is None
    assert routing.allow_migrate("default", "cells") is None
    with pytest.raises(MiddlewareNotUsed):
        replica.ReadYourWritesMiddleware(lambda request: None)
    assert replica.last_check() is None


@pytest.mark.django_db
def test_without_a_replica_the_dashboard_makes_the_same_queries(tree, people, django_assert_num_queries):
    request = RequestFactory().get(reverse("reports:dashboard", args=[tree.khoi.pk]))
    request.user = people.admin
    views.dashboard.__wrapped__(request, tree.khoi.pk)  # what the user object keeps after a first page
    with CaptureQueriesContext(connections["default"]) as plain:
        assert views.dashboard.__wrapped__(request, tree.khoi.pk).status_code == 200
    with django_assert_num_queries(len(plain.captured_queries)):
        assert views.dashboard(request, tree.khoi.pk).status_code == 200
    assert replica.last_check() is None


def _load_settings(**env):
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "REPLICA_", "READ_YOUR"))}
    environment.update(env, DJANGO_SETTINGS_MODULE="config.settings.base")
    return subprocess.run(
        [
            sys.executable,
            "-c",
            "import django; django.setup(); from django.conf import settings; d = settings.DATABASES['replica']; "
            "print(d['HOST'], d['PORT'], d['NAME'], d['TEST']['MIRROR'], d['CONN_HEALTH_CHECKS'], "
            "d['OPTIONS']['connect_timeout'], settings.READ_YOUR_WRITES_SECONDS)",
        ],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_the_replica_url_becomes_the_replica_alias():
    result = _load_settings(
        DATABASE_URL="postgres://u@db:5432/portal", DATABASE_REPLICA_URL="postgres://u@standby:5433/portal"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["standby", "5433", "portal", "default", "False", "2", "10"]


@pytest.mark.parametrize(
    ("name", "env"),
    [
        ("DATABASE_REPLICA_URL", {"DATABASE_URL": "postgres://u@db/portal", "DATABASE_REPLICA_URL": "standby:5433"}),
        ("DATABASE_REPLICA_URL", {"DATABASE_URL": "postgres://u@db/portal", "DATABASE_REPLICA_URL": "postgres://s"}),
        ("DATABASE_REPLICA_URL", {"DATABASE_URL": "postgres://u@db/p", "DATABASE_REPLICA_URL": "sqlite:///r.db"}),
        ("DATABASE_REPLICA_URL", {"DATABASE_REPLICA_URL": "postgres://u@standby/portal"}),  # SQLite primary
        ("READ_YOUR_WRITES_SECONDS", {"READ_YOUR_WRITES_SECONDS": "5"}),  # < 5 s of lag + 5 s between checks
        ("REPLICA_MAX_LAG_SECONDS", {"REPLICA_MAX_LAG_SECONDS": "soon"}),
    ],
)
def test_a_bad_replica_setting_stops_start_up_naming_it(name, env):
    result = _load_settings(**env)
    assert result.returncode != 0
    assert f"Environment variable {name}=" in result.stderr
