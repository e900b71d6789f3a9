"""``manage.py backup --output DIR``: everything needed to rebuild the portal on a new server.

DIR receives ``data.json`` (every row of the project's apps and the accounts, natural foreign keys),
``media.tar.gz`` (MEDIA_ROOT: minutes, documents, report files) and ``manifest.json`` with the row
count of every model, a SHA-256 of the adopted minutes and of both files. ``restore DIR`` checks
all three. Sessions, login attempts (axes) and the Celery beat tables are not kept: they are rebuilt.

One snapshot. The rows, the counts and the checksum are read in one transaction that sees one
moment of the database (REPEATABLE READ on PostgreSQL; on SQLite a read transaction is a snapshot
by itself), so a backup taken while secretaries create and publish meetings agrees with itself and
restores without a dangling foreign key. ``dumpdata`` reads table after table, each at its own
moment: meetings 2132 in the manifest, 2104 in the dump, and attendance rows of meetings it never
wrote (issue 21). The uploaded files are archived inside that transaction, after its snapshot is
taken: a row's file is written before the row commits, so every file a dumped row names is on disk
then; one deleted in between (a document replaced after the snapshot) is named in the manifest.

Exact values. ``dumpdata`` writes datetimes with DjangoJSONEncoder, which keeps milliseconds only:
an RSVP at 19:55:39.000954 came back as 19:55:39. Here every value is written as Python gives it
(all six digits, in UTC), and the checksum sums that same text, so a value that changes on the way
is a real difference, and ``restore`` names the row and field it is in.

Encrypted. The dump and the media hold members' personal data (Luật Bảo vệ dữ liệu cá nhân
91/2025/QH15): both are written as ``data.json.enc`` and ``media.tar.gz.enc``, encrypted as they are
written (AES-256-GCM in 1 MiB chunks, ``lib/encryption.py``) with the key in ``BACKUP_KEY`` — no plain
copy ever touches the disk. The manifest names the key by a hash (``key_id``), so that ``restore``
says "wrong key" before it reads anything. Without a key the backup refuses; ``--no-encrypt`` writes
plain files only where ``BACKUP_ALLOW_PLAIN`` (DEBUG, the tests).
"""

import contextlib
import datetime
import hashlib
import json
import tarfile
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.core import serializers
from django.core.management.base import BaseCommand, CommandError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, models, transaction
from django.utils import timezone

from lib import encryption

# 1: dumpdata's millisecond datetimes and a checksum of them (restore still reads it); 2: exact values.
FORMAT_VERSION = 2
READABLE_FORMATS = (1, 2)
DATA_FILE = "data.json"
MEDIA_FILE = "media.tar.gz"
ENCRYPTED_SUFFIX = ".enc"
MANIFEST_FILE = "manifest.json"
# The project's apps and the accounts; auth.Permission and contenttypes are rebuilt by migrate.
BACKED_UP = ["auth.group", "auth.user", "cells", "meetings", "scoring", "reports"]
# The rows of the adopted minutes, in the order the checksum reads them; Task's assignees follow Task.
MINUTES_MODELS = [
    "meetings.meeting",
    "meetings.agendaitem",
    "meetings.attendance",
    "meetings.opinion",
    "meetings.vote",
    "meetings.resolution",
    "meetings.task",
    "meetings.amendment",
]
ASSIGNEES = "meetings.task.assignees"
# Derived data, not backed up: ``restore`` rebuilds the rollups from the rows it loads (reports.rollups); the
# dashboards' cache version (reports.datacache) is the database's own, and the restore's writes raise it.
DERIVED = {"reports.monthlyrollup", "reports.subtreerollup", "reports.dataversion"}


def backed_up_models() -> list:
    """Concrete models in BACKED_UP (proxies such as meetings.EmailLog share their parent's table)."""
    found = []
    for label in BACKED_UP:
        if "." in label:
            found.append(apps.get_model(label))
        else:
            found += [m for m in apps.get_app_config(label).get_models() if not m._meta.proxy]
    return [m for m in found if m._meta.label_lower not in DERIVED]


def dump_order() -> list:
    """The backed-up models with every model that has a natural key before the models that name it."""
    chosen = backed_up_models()
    return [m for m in serializers.sort_dependencies([(None, chosen)], allow_cycles=True) if m in chosen]


def row_counts() -> dict[str, int]:
    return {model._meta.label_lower: model._base_manager.count() for model in backed_up_models()}


class ExactJSONEncoder(DjangoJSONEncoder):
    """DjangoJSONEncoder without its loss: datetimes (in UTC) and times keep all six fractional digits."""

    def default(self, o):
        if isinstance(o, datetime.datetime):
            return (o.astimezone(datetime.UTC) if timezone.is_aware(o) else o).isoformat()
        if isinstance(o, datetime.time):
            return o.isoformat()
        return super().default(o)


class _MillisecondsEncoder(DjangoJSONEncoder):
    """How format 1 summed datetimes: cut to the millisecond, as dumpdata had written them."""

    def default(self, o):
        if isinstance(o, datetime.datetime):
            o = o.replace(microsecond=o.microsecond // 1000 * 1000)
        return super().default(o)


def _encoder(format_version: int):
    return _MillisecondsEncoder if format_version == 1 else ExactJSONEncoder


def canonical(payload, *, format_version: int = FORMAT_VERSION) -> str:
    """The text a row (a dict of column values) or an assignee pair is summed as."""
    return json.dumps(payload, sort_keys=True, cls=_encoder(format_version))


def minutes_groups_from_database():
    """The adopted minutes as (label, rows) groups, rows as (key, payload) in key order.

    A payload is the row's column values (``.values()``: foreign keys as ids), an assignee a
    [task id, member id] pair. The same groups are built from a dump by ``restore`` to compare.
    """
    from meetings.models import Meeting, Task

    adopted = Meeting._base_manager.filter(state=Meeting.State.MINUTES_ADOPTED)
    adopted_ids = adopted.values("pk")
    for label in MINUTES_MODELS:
        model = apps.get_model(label)
        rows = adopted if model is Meeting else model._base_manager.filter(meeting__in=adopted_ids)
        pk = model._meta.pk.attname
        yield label, ((row[pk], row) for row in rows.order_by("pk").values().iterator(chunk_size=2000))
        if model is Task:
            through = Task.assignees.through.objects.filter(task__meeting__in=adopted_ids)
            pairs = through.order_by("task_id", "member_id").values_list("task_id", "member_id")
            yield ASSIGNEES, (((task, member), [task, member]) for task, member in pairs.iterator(chunk_size=2000))


def minutes_checksum(groups, *, format_version: int = FORMAT_VERSION) -> str:
    digest = hashlib.sha256()
    for label, rows in groups:
        if label != ASSIGNEES:  # format 1 summed the label of each model, not of the assignees
            digest.update(label.encode())
        for _key, payload in rows:
            digest.update(canonical(payload, format_version=format_version).encode())
    return digest.hexdigest()


def adopted_minutes_checksum(*, format_version: int = FORMAT_VERSION) -> str:
    """SHA-256 of the adopted minutes: each adopted meeting row and every row of its record, in pk order.

    Values are summed exactly as the dump writes them (datetimes in UTC to the microsecond), so the
    sum is the same after a restore, on SQLite and on PostgreSQL, and a difference is a real one.
    """
    return minutes_checksum(minutes_groups_from_database(), format_version=format_version)


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for chunk in iter(lambda: stream.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


@contextlib.contextmanager
def one_snapshot():
    """A transaction that reads one moment of the database (see the module's docstring).

    Inside a transaction already (a test's), the caller's transaction is used as it is: PostgreSQL
    takes an isolation level only before the first query of a transaction.
    """
    outermost = not connection.in_atomic_block
    with transaction.atomic():
        if outermost and connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        yield


def referenced_files() -> set[str]:
    """The names of the uploaded files the backed-up rows point at."""
    names = set()
    for model in backed_up_models():
        for field in model._meta.concrete_fields:
            if isinstance(field, models.FileField):
                rows = model._base_manager.exclude(**{field.attname: ""})
                names.update(rows.values_list(field.attname, flat=True).iterator())
    return names


def _output(path: Path, key: bytes | None):
    """A binary stream to ``path``: encrypted with ``key`` as it is written, or plain."""
    return encryption.EncryptingWriter(path, key) if key else open(path, "wb")  # noqa: SIM115


def archive_media(path: Path, key: bytes | None = None) -> set[str]:
    """Write MEDIA_ROOT's files to ``path`` (encrypted with ``key`` if given); returns the names archived."""
    media_root = Path(settings.MEDIA_ROOT)
    archived = set()
    with _output(path, key) as stream, tarfile.open(fileobj=stream, mode="w|gz") as archive:
        if media_root.is_dir():
            for file in sorted(media_root.rglob("*")):
                if file.is_file():
                    name = str(file.relative_to(media_root))
                    try:
                        archive.add(file, arcname=name, recursive=False)
                    except FileNotFoundError:  # deleted while the archive was written
                        continue
                    archived.add(name)
    return archived


def write_dump(path: Path, key: bytes | None = None) -> None:
    import io

    def rows():
        for model in dump_order():
            yield from model._base_manager.order_by(model._meta.pk.name).iterator(chunk_size=2000)

    with _output(path, key) as raw, io.TextIOWrapper(_Unclosed(raw), encoding="utf-8") as stream:
        serializers.serialize("json", rows(), use_natural_foreign_keys=True, stream=stream, cls=ExactJSONEncoder)


class _Unclosed:
    """``raw`` seen by a TextIOWrapper that flushes into it and leaves closing it to its owner."""

    def __init__(self, raw):
        self._raw = raw
        self.closed = False

    def writable(self):
        return True

    def readable(self):
        return False

    def seekable(self):
        return False

    def write(self, data):
        return self._raw.write(data)

    def flush(self):
        self._raw.flush()

    def close(self):
        self.flush()
        self.closed = True


def backup_key(*, plain: bool) -> bytes | None:
    """The key a backup is written with; None for a plain one (only where BACKUP_ALLOW_PLAIN)."""
    if plain:
        if not getattr(settings, "BACKUP_ALLOW_PLAIN", False):
            raise CommandError(
                "--no-encrypt is for development (DEBUG) and tests only: a backup holds members' "
                "personal data (Luật 91/2025/QH15) and is written encrypted with BACKUP_KEY."
            )
        return None
    if not settings.BACKUP_KEY:
        raise CommandError(
            "BACKUP_KEY is not set: a backup holds members' personal data (Luật 91/2025/QH15) and is "
            "written encrypted. Make a key with `manage.py backup --generate-key`, set it in the "
            "environment and keep a copy apart from the backups (without it they cannot be restored)."
        )
    return encryption.parse_key(settings.BACKUP_KEY)


class Command(BaseCommand):
    help = "Back up the database (JSON), the uploaded files and a manifest to a directory."

    def add_arguments(self, parser):
        parser.add_argument("--output", help="Directory to write (created; must not hold a backup).")
        parser.add_argument(
            "--no-encrypt",
            action="store_true",
            help="Write the files plain (only with DEBUG or in tests: BACKUP_ALLOW_PLAIN).",
        )
        parser.add_argument("--generate-key", action="store_true", help="Print a new BACKUP_KEY and stop.")

    def handle(self, *args, output=None, no_encrypt=False, generate_key=False, **options):
        if generate_key:
            self.stdout.write(encryption.generate_key())
            return
        if not output:
            raise CommandError("--output DIR is required.")
        key = backup_key(plain=no_encrypt)
        target = Path(output)
        if (target / MANIFEST_FILE).exists():
            raise CommandError(f"{target} already holds a backup; choose a new directory.")
        target.mkdir(parents=True, exist_ok=True)
        suffix = ENCRYPTED_SUFFIX if key else ""
        data_path, media_path = target / (DATA_FILE + suffix), target / (MEDIA_FILE + suffix)

        with one_snapshot():
            counts = row_counts()  # the first read: from here on the transaction sees this moment only
            referenced = referenced_files()
            archived = archive_media(media_path, key)
            write_dump(data_path, key)
            checksum = adopted_minutes_checksum()
        missing = sorted(referenced - archived)

        manifest = {
            "format": FORMAT_VERSION,
            "created_at": timezone.now().isoformat(),
            "apps": BACKED_UP,
            "counts": counts,
            "adopted_minutes_sha256": checksum,
            "media_files": len(archived),
            "media_missing": missing,
            "files": {data_path.name: file_sha256(data_path), media_path.name: file_sha256(media_path)},
            "encryption": {"scheme": encryption.SCHEME, "key_id": encryption.key_id(key)} if key else None,
        }
        (target / MANIFEST_FILE).write_text(json.dumps(manifest, indent=2, sort_keys=True))
        if missing:
            self.stderr.write(
                self.style.WARNING(
                    f"{len(missing)} uploaded file(s) named by the data were deleted before they could be archived: "
                    + ", ".join(missing[:10])
                )
            )
        self.stdout.write(
            self.style.SUCCESS(
                f"Backup written to {target}: {sum(counts.values())} rows, {len(archived)} files"
                + (f", encrypted (key {encryption.key_id(key)})." if key else ", NOT encrypted (--no-encrypt).")
            )
        )
