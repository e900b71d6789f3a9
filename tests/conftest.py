"""Shared fixtures: a small Khối with two grassroots organisations and one user per role.

    Khối
    ├── Đảng bộ Sở Tài chính (dang_bo_co_so)      <- tccs_officer "officer"
    │   ├── Chi bộ Văn phòng (chi_bo)             <- cell_secretary "secretary", member "member"
    │   └── Chi bộ Kế toán (chi_bo)
    └── Chi bộ Công ty Điện lực (chi_bo_co_so)    <- cell_secretary "other_secretary"

With REQUIRE_SERVICES=1 (CI) the run fails at once unless it is on PostgreSQL with Redis reachable.
"""

import os

import pytest

from cells.models import Organisation, Role

from .factories import UserFactory, grant, make_member, make_organisation, pass_second_factor

REQUIRE_SERVICES = os.environ.get("REQUIRE_SERVICES") == "1"


def pytest_sessionstart(session):
    if not REQUIRE_SERVICES:
        return
    from django.conf import settings

    engine = settings.DATABASES["default"]["ENGINE"]
    if "postgresql" not in engine:
        pytest.exit(f"REQUIRE_SERVICES=1 but the database engine is {engine}: set DATABASE_URL", returncode=3)
    if not settings.REDIS_URL:
        pytest.exit("REQUIRE_SERVICES=1 but REDIS_URL is not set", returncode=3)
    import redis

    try:
        redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=3).ping()
    except redis.RedisError as exc:
        pytest.exit(f"REQUIRE_SERVICES=1 but Redis at {settings.REDIS_URL} cannot be reached: {exc}", returncode=3)


def require_or_skip(available: bool, reason: str):
    """Skip locally when an optional service is missing; in CI (REQUIRE_SERVICES=1) fail instead."""
    if available:
        return
    if REQUIRE_SERVICES:
        pytest.fail(f"required service missing: {reason}")
    pytest.skip(reason)


@pytest.fixture
def pdftotext_available():
    """pdftotext from poppler-utils, to read PDFs back (installed by .ci/run)."""
    import shutil

    require_or_skip(bool(shutil.which("pdftotext")), "pdftotext (poppler-utils) is not installed")


@pytest.fixture
def real_broker(settings):
    """Publish tasks to the real Redis broker (CI) instead of running them in-process."""
    from config.celery import app

    require_or_skip(bool(settings.REDIS_URL), "REDIS_URL is not set: no broker to publish to")
    previous = app.conf.task_always_eager
    app.conf.task_always_eager = False
    yield app
    app.conf.task_always_eager = previous


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(autouse=True)
def _empty_figures_cache():
    """No test sees a dashboard cached by another (reports.datacache; the cache is this process's memory)."""
    from django.core.cache import caches

    caches["figures"].clear()


@pytest.fixture
def tree(db):
    khoi = make_organisation(
        kind=Organisation.Kind.KHOI, name="Đảng bộ Khối Cơ quan và Doanh nghiệp tỉnh", short_code="ĐUK"
    )
    tccs = make_organisation(
        parent=khoi, kind=Organisation.Kind.DANG_BO_CO_SO, name="Đảng bộ Sở Tài chính", short_code="ĐU"
    )
    cell = make_organisation(parent=tccs, kind=Organisation.Kind.CHI_BO, name="Chi bộ Văn phòng", short_code="CB")
    sibling = make_organisation(parent=tccs, kind=Organisation.Kind.CHI_BO, name="Chi bộ Kế toán", short_code="CB")
    other = make_organisation(
        parent=khoi, kind=Organisation.Kind.CHI_BO_CO_SO, name="Chi bộ Công ty Điện lực", short_code="CB"
    )
    return type("Tree", (), {"khoi": khoi, "tccs": tccs, "cell": cell, "sibling": sibling, "other": other})


@pytest.fixture
def people(tree):
    """One user per role, and a member record for each person who is a party member."""
    users = {}
    for name, organisation, role in [
        ("admin", tree.khoi, Role.KHOI_ADMIN),
        ("viewer", tree.khoi, Role.COMMITTEE_VIEWER),
        ("officer", tree.tccs, Role.TCCS_OFFICER),
        ("secretary", tree.cell, Role.CELL_SECRETARY),
        ("clerk", tree.cell, Role.CELL_CLERK),
        ("member", tree.cell, Role.MEMBER),
        ("other_secretary", tree.other, Role.CELL_SECRETARY),
    ]:
        user = UserFactory(username=name)
        grant(user, organisation, role)
        users[name] = user
    members = {
        "secretary": make_member(organisation=tree.cell, full_name="Trần Thị Bí Thư"),
        "member": make_member(organisation=tree.cell, full_name="Lê Văn Đảng Viên"),
        "sibling": make_member(organisation=tree.sibling, full_name="Phạm Văn Kế Toán"),
        "other": make_member(organisation=tree.other, full_name="Hoàng Thị Điện Lực"),
    }
    for key in ("secretary", "member"):
        members[key].user = users[key]
        members[key].save(update_fields=["user"])
    return type("People", (), {"users": users, "members": members, **users})


@pytest.fixture
def client_for(client):
    """``client_for(user)`` logs the test client in as ``user``, past the second factor where their role needs
    one (tests/cells/test_two_factor.py tests that step itself)."""
    from cells.selectors import second_factor_required

    def login(user):
        client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
        if second_factor_required(user):
            pass_second_factor(client, user)
        return client

    return login
