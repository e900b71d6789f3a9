"""``manage.py backup --output DIR``: everything needed to rebuild the portal on a new server.

DIR receives ``data.json`` (dumpdata of the project's apps and the accounts, natural foreign keys),
``media.tar.gz`` (MEDIA_ROOT: minutes, documents, report files) and ``manifest.json`` with the row
count of every model, a SHA-256 of the adopted minutes and of both files. ``restore DIR`` checks
all three. Sessions, login attempts (axes) and the Celery beat tables are not kept: they are rebuilt.
"""

import datetime
import hashlib
import json
import tarfile
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.core.serializers.json import DjangoJSONEncoder
from django.utils import timezone

FORMAT_VERSION = 1
DATA_FILE = "data.json"
MEDIA_FILE = "media.tar.gz"
MANIFEST_FILE = "manifest.json"
# The project's apps and the accounts; auth.Permission and contenttypes are rebuilt by migrate.
BACKED_UP = ["auth.group", "auth.user", "cells", "meetings", "scoring", "reports"]


def backed_up_models() -> list:
    """Concrete models in BACKED_UP (proxies such as meetings.EmailLog share their parent's table)."""
    models = []
    for label in BACKED_UP:
        if "." in label:
            models.append(apps.get_model(label))
        else:
            models += [m for m in apps.get_app_config(label).get_models() if not m._meta.proxy]
    return models


def row_counts() -> dict[str, int]:
    return {model._meta.label_lower: model._base_manager.count() for model in backed_up_models()}


class _MillisecondsEncoder(DjangoJSONEncoder):
    """DjangoJSONEncoder with a datetime cut to its milliseconds first, as dumpdata keeps it: 07:00:00.000500
    is written "07:00:00.000" but restored as 07:00:00, which DjangoJSONEncoder writes without the ".000"."""

    def default(self, o):
        if isinstance(o, datetime.datetime):
            o = o.replace(microsecond=o.microsecond // 1000 * 1000)
        return super().default(o)


def adopted_minutes_checksum() -> str:
    """SHA-256 of the adopted minutes: each adopted meeting row and every row of its record, in pk order.

    Values are encoded as dumpdata writes them (DjangoJSONEncoder: datetimes to the millisecond, in
    UTC), so the sum is the same after a restore, on SQLite and on PostgreSQL.
    """
    from meetings.models import AgendaItem, Amendment, Attendance, Meeting, Opinion, Resolution, Task, Vote

    adopted = Meeting.objects.filter(state=Meeting.State.MINUTES_ADOPTED)
    digest = hashlib.sha256()
    parts = [(Meeting, adopted)] + [
        (model, model.objects.filter(meeting__in=adopted.values("pk")))
        for model in (AgendaItem, Attendance, Opinion, Vote, Resolution, Task, Amendment)
    ]
    for model, rows in parts:
        digest.update(model._meta.label_lower.encode())
        for row in rows.order_by("pk").values():
            digest.update(json.dumps(row, sort_keys=True, cls=_MillisecondsEncoder).encode())
        if model is Task:
            through = Task.assignees.through.objects.filter(task__meeting__in=adopted.values("pk"))
            for row in through.order_by("task_id", "member_id").values_list("task_id", "member_id"):
                digest.update(json.dumps(row).encode())
    return digest.hexdigest()


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for chunk in iter(lambda: stream.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


class Command(BaseCommand):
    help = "Back up the database (JSON), the uploaded files and a manifest to a directory."

    def add_arguments(self, parser):
        parser.add_argument("--output", required=True, help="Directory to write (created; must not hold a backup).")

    def handle(self, *args, output, **options):
        target = Path(output)
        if (target / MANIFEST_FILE).exists():
            raise CommandError(f"{target} already holds a backup; choose a new directory.")
        target.mkdir(parents=True, exist_ok=True)
        data_path, media_path = target / DATA_FILE, target / MEDIA_FILE

        # One repeatable-read view would be ideal; the counts and checksum are read right after the
        # dump, and restore recomputes them from the loaded data, so a change in between is caught.
        call_command("dumpdata", *BACKED_UP, natural_foreign=True, output=str(data_path), verbosity=0)
        counts, checksum = row_counts(), adopted_minutes_checksum()

        media_root = Path(settings.MEDIA_ROOT)
        media_files = 0
        with tarfile.open(media_path, "w:gz") as archive:
            if media_root.is_dir():
                for path in sorted(media_root.rglob("*")):
                    if path.is_file():
                        archive.add(path, arcname=str(path.relative_to(media_root)), recursive=False)
                        media_files += 1

        manifest = {
            "format": FORMAT_VERSION,
            "created_at": timezone.now().isoformat(),
            "apps": BACKED_UP,
            "counts": counts,
            "adopted_minutes_sha256": checksum,
            "media_files": media_files,
            "files": {DATA_FILE: file_sha256(data_path), MEDIA_FILE: file_sha256(media_path)},
        }
        (target / MANIFEST_FILE).write_text(json.dumps(manifest, indent=2, sort_keys=True))
        self.stdout.write(self.style.SUCCESS(
            f"Backup written to {target}: {sum(counts.values())} rows, {media_files} files."))
