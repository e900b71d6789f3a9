"""The dashboard's figures cached, and invalidated by any write to what they count (issue #20, item 5).

The Khối and đảng bộ dashboards are the same for every officer who may see them: the same scope, period,
local day and language give the same figures. Their rendered parts (everything but the header, the period
form and the meetings of the next 14 days, which are built for each request) are kept in the ``figures``
cache (Redis when ``REDIS_URL`` is set, so all processes share it; this process's memory otherwise) under a
key that holds the **data version**: the one row of ``reports.DataVersion``.

* **What raises the version.** Every statement that writes a table — INSERT, UPDATE, DELETE, TRUNCATE, by
  the ORM, ``.update()``, ``bulk_create`` or raw SQL, in a request, a Celery task or a management command —
  is seen by a database execute wrapper installed on every connection (``install``). Unless the table is in
  ``UNCOUNTED_TABLES`` (logins, sessions, the audit log, the inbox, read receipts, report-run heartbeats,
  the beat schedule: written all day, read by no figure; tests/reports/test_datacache.py renders every
  kind of dashboard and checks that none of its queries reads them), the version is raised once the
  transaction commits (at once in autocommit) — in a request, once when the response is done, however
  many transactions it committed. A rolled-back write raises nothing.
* **Order.** The version is read before the figures and raised after the data is committed, so a page
  computed while a write lands is stored under the version that write retires: it is never served after it.
* **The writer's own page.** While this thread's transaction holds an uncommitted counted write, or its
  request committed one not yet shown by the version, the cache is neither read nor filled (``pending``).
* **Replica.** The version is read from the database the figures are read from (lib.replica routes both).
* **The clock.** The local date is in the key, so nothing crosses midnight; the one figure that changes at a
  moment of the day (a meeting's minutes becoming overdue, reports.warnings.minutes_overdue_grows_at) bounds
  the entry's life to that moment.
* **What is not seen.** Writes that bypass Django's connection: ``psql`` by hand, a psycopg COPY (the demo's
  COPY shares its transaction with ORM writes, which raise the version at its commit). For those an entry
  lives at most ``DASHBOARD_CACHE_SECONDS`` (60 s; 0 turns the cache off).
* **Failures.** A cache server that does not answer costs the page its computation, never an error.
"""

from __future__ import annotations

import contextvars
import datetime
import logging
import math
import re
import secrets
from collections.abc import Callable

from django.conf import settings
from django.core.cache import caches
from django.core.signals import request_finished, request_started
from django.db import DatabaseError, connections, router
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.signals import connection_created
from django.utils import timezone, translation

from .models import DataVersion

logger = logging.getLogger(__name__)

CACHE_ALIAS = "figures"
TABLE = DataVersion._meta.db_table

# Written often, read by no dashboard figure (checked by tests/reports/test_datacache.py).
UNCOUNTED_TABLES = frozenset(
    {
        TABLE,  # the version itself
        "django_session",  # every login and logout
        "cells_usersession",  # the session activity, refreshed by requests
        "axes_accessattempt",  # login attempts (django-axes)
        "axes_accessattemptexpiration",
        "axes_accessfailurelog",
        "axes_accesslog",
        "cells_auditentry",  # the audit log
        "django_admin_log",
        "otp_totp_totpdevice",  # the second factor's last use
        "cells_recoverycode",
        "cells_recoverycodedevice",
        "cells_notification",  # the inbox
        "meetings_reminderdelivery",  # the reminders' claims
        "meetings_documentread",  # read receipts
        "meetings_materialread",
        "meetings_documentreminder",
        "reports_reportrun",  # a report's heartbeat every 10 s
        "django_celery_beat_periodictask",  # the beat's last run, every tick
        "django_celery_beat_periodictasks",
    }
)

# The first keyword and the table of a writing statement; a WITH … (a data-modifying CTE) is a write of an
# unknown table. Quotes are optional (raw SQL), the schema is not used by the project.
_WRITE = re.compile(r'\s*(?:(INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+"?(\w+)|(TRUNCATE|WITH)\b)', re.IGNORECASE)
_WRITE_WORDS = re.compile(r"\b(INSERT|UPDATE|DELETE)\b", re.IGNORECASE)


def counted_write(sql: str) -> bool:
    """Whether ``sql`` may change a table the figures count."""
    match = _WRITE.match(sql)
    if match is None:
        return False
    if match.group(3):
        return match.group(3).upper() == "TRUNCATE" or _WRITE_WORDS.search(sql) is not None
    return match.group(2) not in UNCOUNTED_TABLES


# Inside a request: the databases written (committed) so far, raised once when the response is done
# (request_finished), not after each statement. None outside a request (a task, a command): at once.
_deferred: contextvars.ContextVar[set[str] | None] = contextvars.ContextVar("figures_deferred", default=None)


def _committed(alias: str) -> None:
    deferred = _deferred.get()
    if deferred is None:
        bump(alias)
    else:
        deferred.add(alias)


def _request_started(**kwargs) -> None:
    _deferred.set(set())


def _request_finished(**kwargs) -> None:
    deferred = _deferred.get()
    _deferred.set(None)
    for alias in sorted(deferred or ()):
        bump(alias)


class _Raise:
    """The on-commit callback that raises the version (a class, so a transaction registers it once)."""

    def __init__(self, alias: str):
        self.alias = alias

    def __call__(self) -> None:
        _committed(self.alias)


def _registered(connection: BaseDatabaseWrapper) -> bool:
    """Whether the open transaction will raise the version at its commit.

    The callback's place in ``run_on_commit`` is remembered: a rollback that drops it drops everything
    after it too, so the place still holding it means it is still there (one look, not a scan, per write)."""
    entries = connection.run_on_commit
    mark = getattr(connection, "_figures_mark", None)
    if mark is not None and mark[0] < len(entries) and entries[mark[0]][1] is mark[1]:
        return True
    for index, (_sids, callback, _robust) in enumerate(entries):
        if isinstance(callback, _Raise):
            connection._figures_mark = (index, callback)
            return True
    return False


def _watch(execute, sql, params, many, context):
    result = execute(sql, params, many, context)
    if isinstance(sql, str) and counted_write(sql):
        connection = context["connection"]
        if not connection.in_atomic_block:
            _committed(connection.alias)  # autocommit: the write is already committed
        elif not _registered(connection):
            callback = _Raise(connection.alias)
            connection.on_commit(callback, robust=True)
            connection._figures_mark = (len(connection.run_on_commit) - 1, callback)
    return result


def _on_connection(sender, connection, **kwargs) -> None:
    if _watch not in connection.execute_wrappers:
        connection.execute_wrappers.append(_watch)


def install() -> None:
    """Watch every database connection's writes (reports.apps.ReportsConfig.ready)."""
    connection_created.connect(_on_connection, dispatch_uid="reports.datacache")
    request_started.connect(_request_started, dispatch_uid="reports.datacache")
    request_finished.connect(_request_finished, dispatch_uid="reports.datacache")
    for connection in connections.all(initialized_only=True):
        _on_connection(None, connection)


def bump(alias: str = "default") -> None:
    """Raise the data version (after a committed write to a counted table).

    A missing row (an emptied database) is made again with a new token; a missing table (before the
    migration) is no error: there is nothing cached to retire."""
    connection = connections[alias]
    now = timezone.now()
    try:
        with connection.cursor() as cursor:
            cursor.execute(f"UPDATE {TABLE} SET number = number + 1, changed_at = %s WHERE id = 1", [now])  # noqa: S608
            if cursor.rowcount == 0:
                cursor.execute(
                    f"INSERT INTO {TABLE} (id, token, number, changed_at) VALUES (1, %s, 1, %s) "  # noqa: S608
                    "ON CONFLICT (id) DO NOTHING",
                    [secrets.token_hex(16), now],
                )
    except DatabaseError as error:
        if connection.in_atomic_block:
            raise
        logger.debug("data version not raised: %s", error)


def pending(alias: str = "default") -> bool:
    """Whether this thread wrote a counted table on ``alias`` that the version does not show yet: in its
    open transaction, or committed earlier in the request being answered."""
    if alias in (_deferred.get() or ()):
        return True  # committed in this request, raised when it ends
    connection = connections[alias]
    return connection.in_atomic_block and _registered(connection)


def current(alias: str) -> str | None:
    """The data version read on ``alias`` ("token:number"), None when there is no row to read."""
    try:
        row = DataVersion.objects.using(alias).filter(pk=1).values_list("token", "number").first()
    except DatabaseError as error:
        if connections[alias].in_atomic_block:
            raise
        logger.warning("data version unreadable, figures computed: %s", error)
        return None
    return None if row is None else f"{row[0]}:{row[1]}"


def cached(
    name: str,
    parts: Callable[[], dict[str, str]],
    *,
    vary: tuple,
    changes_at: Callable[[], datetime.datetime | None] | None = None,
) -> dict[str, str]:
    """``parts()`` (a dict of strings), from the cache when the data has not changed since it was stored.

    ``vary``: what else the parts depend on (scope, period, local date…); the language is added here.
    ``changes_at()``: the next moment the parts change by the clock alone (a due moment passing); the
    entry is not kept past it."""
    seconds = settings.DASHBOARD_CACHE_SECONDS
    alias = router.db_for_read(DataVersion)
    if not seconds or pending("default") or pending(alias):
        return parts()
    version = current(alias)
    if version is None:
        return parts()
    key = ":".join(
        str(item) for item in (name, settings.DASHBOARD_CACHE_VERSION, version, translation.get_language(), *vary)
    )
    cache = caches[CACHE_ALIAS]
    try:
        hit = cache.get(key)
    except Exception as error:  # noqa: BLE001  # any cache failure: compute, never a 500
        logger.warning("figures cache unreadable: %s", error)
        return parts()
    if hit is not None:
        return hit
    value = parts()
    moment = changes_at() if changes_at is not None else None
    if moment is not None:
        seconds = min(seconds, max(1, math.ceil((moment - timezone.now()).total_seconds())))
    try:
        cache.set(key, value, seconds)
    except Exception as error:  # noqa: BLE001
        logger.warning("figures cache not written: %s", error)
    return value
