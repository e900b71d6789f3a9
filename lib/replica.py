"""Reads from a PostgreSQL read replica (issue #20): the database router, the reads that may go there,
read-your-writes and the fallback to the primary.

``DATABASE_REPLICA_URL`` (config/settings/base.py) adds the database alias ``replica``. Without it nothing
here runs a query or changes a route: ``replica_reads()`` does nothing, the router answers None (Django's
default database) and the middleware is not loaded.

* Which reads: only those inside ``replica_reads()`` (a context manager) or a view under ``@replica_view``
  — the dashboards, their drill-downs and exports, the annual report. Every other read, every write, and
  any read inside a transaction on the primary (it may read what the transaction wrote) go to "default".
* Read-your-writes: after any request by a non-safe method (POST, PUT, PATCH, DELETE) the browser carries
  a signed cookie for ``READ_YOUR_WRITES_SECONDS``; while it is valid that browser's replica reads go to
  the primary, so the page after a write shows it. The setting is at least the longest staleness the
  replica may have (``REPLICA_MAX_LAG_SECONDS`` + ``REPLICA_CHECK_SECONDS``; base.py refuses less).
* Fallback: the replica is read only while it answers and lags at most ``REPLICA_MAX_LAG_SECONDS``. The
  check is one query, run at most once per ``REPLICA_CHECK_SECONDS`` in each process, so a request costs at
  most one query more than on the primary alone. A database error during a view's replica reads (the
  replica went away since the check) runs the view once more on the primary and, when the replica's
  connection is broken, marks it down until the next check.
"""

import contextlib
import contextvars
import functools
import logging
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import MiddlewareNotUsed
from django.db import DatabaseError, OperationalError, connections

logger = logging.getLogger(__name__)

PRIMARY = "default"
REPLICA = "replica"
COOKIE = "primary_reads"
_SALT = "lib.replica.read-your-writes"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})

# Seconds the replica is behind the primary. Caught up (everything received is replayed, and the WAL
# receiver is connected): 0, however long ago the last write was. Otherwise the age of the last replayed
# transaction (NULL, "not usable", when none was replayed since it started). A server that is not in
# recovery (not a streaming standby) has no lag to measure: 0. While WAL arrives without commits (a vacuum,
# a long transaction), the age of the last replayed commit overstates the lag: the pages then read the
# primary until the next check, which is safe.
LAG_SQL = """
SELECT CASE
    WHEN NOT pg_is_in_recovery() THEN 0
    WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() AND EXISTS (SELECT 1 FROM pg_stat_wal_receiver)
        THEN 0
    ELSE EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp())
END
"""

_reading: contextvars.ContextVar[bool] = contextvars.ContextVar("replica_reads", default=False)


@dataclass
class _Health:
    usable: bool = False
    checked_at: float | None = None  # time.monotonic() of the last check; None: never checked
    lag: float | None = None


_health = _Health()
_lock = threading.Lock()


def configured() -> bool:
    """Whether a replica is configured (the ``replica`` database alias)."""
    return REPLICA in connections.settings


def reading_from_replica() -> bool:
    """Whether the reads routed now go to the replica."""
    return _reading.get()


def reset_health() -> None:
    """Forget the last check: the next replica read checks the replica again (tests, after a fault)."""
    with _lock:
        _health.usable, _health.checked_at, _health.lag = False, None, None


def last_check() -> float | None:
    """When the replica was last checked (time.monotonic()), None: not since the start or reset_health()."""
    return _health.checked_at


def replica_lag() -> float | None:
    """The lag measured by the last check, in seconds (None: not measured, or the replica did not answer)."""
    return _health.lag


def _measure() -> float | None:
    try:
        with connections[REPLICA].cursor() as cursor:
            cursor.execute(LAG_SQL)
            (lag,) = cursor.fetchone()
    except DatabaseError as error:
        logger.warning("the read replica does not answer; reading from the primary: %s", error)
        _close_replica()
        return None
    return None if lag is None else float(lag)


def replica_usable() -> bool:
    """Whether the replica answers and is close enough behind: checked at most once per REPLICA_CHECK_SECONDS.

    While one thread checks, the others go by the previous check (the first ones: the primary).
    """
    now = time.monotonic()
    with _lock:
        if _health.checked_at is not None and now - _health.checked_at < settings.REPLICA_CHECK_SECONDS:
            return _health.usable
        _health.checked_at = now
    lag = _measure()
    usable = lag is not None and lag <= settings.REPLICA_MAX_LAG_SECONDS
    if lag is not None and not usable:
        logger.warning("the read replica is %.1f s behind; reading from the primary", lag)
    with _lock:
        _health.usable, _health.lag = usable, lag
    return usable


def _close_replica() -> None:
    with contextlib.suppress(DatabaseError):
        connections[REPLICA].close()


def _mark_down_if_broken() -> None:
    replica = connections[REPLICA]
    if replica.connection is None or not replica.is_usable():
        _close_replica()
        with _lock:
            _health.usable, _health.checked_at, _health.lag = False, time.monotonic(), None


@contextlib.contextmanager
def replica_reads() -> Iterator[bool]:
    """Reads inside the block go to the replica when one is configured and usable; yields whether they do.

    Inside a transaction on the primary the reads stay there (they may read what it wrote).
    """
    if _reading.get() or not configured() or connections[PRIMARY].in_atomic_block or not replica_usable():
        yield _reading.get()
        return
    token = _reading.set(True)
    try:
        yield True
    finally:
        _reading.reset(token)


def wrote_recently(request) -> bool:
    """Whether this browser sent a non-safe request in the last READ_YOUR_WRITES_SECONDS (the signed cookie)."""
    value = request.get_signed_cookie(COOKIE, default=None, salt=_SALT, max_age=settings.READ_YOUR_WRITES_SECONDS)
    return value is not None


def replica_view(view: Callable) -> Callable:
    """A read-only view whose reads may go to the replica: not for a non-safe request, nor for a browser that
    wrote recently (read-your-writes). A database error on the replica runs the view again on the primary."""

    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        if not configured() or request.method not in SAFE_METHODS or wrote_recently(request):
            return view(request, *args, **kwargs)
        on_replica = False
        try:
            with replica_reads() as on_replica:
                return view(request, *args, **kwargs)
        except OperationalError as error:
            if not on_replica:
                raise
            logger.warning("a read on the replica failed; the page is read again from the primary: %s", error)
            _mark_down_if_broken()
        return view(request, *args, **kwargs)

    return wrapper


class ReadYourWritesMiddleware:
    """After a non-safe request, the signed cookie that keeps this browser's reads on the primary for
    READ_YOUR_WRITES_SECONDS. Not loaded when no replica is configured."""

    def __init__(self, get_response):
        if not configured():
            raise MiddlewareNotUsed
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if request.method not in SAFE_METHODS:
            response.set_signed_cookie(
                COOKIE,
                "1",
                salt=_SALT,
                max_age=settings.READ_YOUR_WRITES_SECONDS,
                secure=settings.SESSION_COOKIE_SECURE,
                httponly=True,
                samesite="Lax",
            )
        return response


class ReplicaRouter:
    """Reads inside ``replica_reads()`` to the replica; every write to the primary; no migration on the replica.

    Without a replica every answer is None: Django's default routing, unchanged.
    """

    def db_for_read(self, model, **hints):
        return REPLICA if _reading.get() and not connections[PRIMARY].in_atomic_block else None

    def db_for_write(self, model, **hints):
        # An instance read from the replica is saved on the primary (Django would write where it was read).
        return PRIMARY if configured() else None

    def allow_relation(self, obj1, obj2, **hints):
        if configured() and {obj1._state.db, obj2._state.db} <= {PRIMARY, REPLICA}:
            return True
        return None

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return False if db == REPLICA else None
