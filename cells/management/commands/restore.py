"""``manage.py restore DIR``: load a ``backup`` into a freshly migrated, empty database.

The files are checked against the manifest first. The rows are loaded in one transaction: the rows
that ``migrate`` seeded (document types, dues rates, scoring schemes) are replaced by the backup's,
then the row counts and the SHA-256 of the adopted minutes must equal the manifest's, or nothing is
kept. The uploaded files are unpacked into MEDIA_ROOT afterwards. A database that already holds
accounts or organisations is refused unless ``--force`` (which replaces their rows too).
"""

import json
import tarfile
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.core.serializers import sort_dependencies
from django.db import transaction

from .backup import (
    DATA_FILE,
    FORMAT_VERSION,
    MANIFEST_FILE,
    MEDIA_FILE,
    adopted_minutes_checksum,
    backed_up_models,
    file_sha256,
    row_counts,
)


def database_is_empty() -> bool:
    from cells.models import Member, Organisation

    return not (get_user_model().objects.exists() or Organisation.objects.exists() or Member.objects.exists())


def delete_backed_up_rows() -> None:
    """Empty the backed-up tables, dependants first (so PROTECT never stops the deletion)."""
    from cells.models import Organisation

    models = backed_up_models()
    ordered = sort_dependencies([(None, models)], allow_cycles=True)
    for model in reversed(ordered):
        if model not in models:
            continue
        rows = model._base_manager.all()
        if model is Organisation:  # parent is PROTECT: the deepest level first
            for depth in sorted(set(rows.values_list("depth", flat=True)), reverse=True):
                rows.filter(depth=depth).delete()
        else:
            rows.delete()


class Command(BaseCommand):
    help = "Restore a backup made by `backup` into an empty database (all or nothing)."

    def add_arguments(self, parser):
        parser.add_argument("directory")
        parser.add_argument("--force", action="store_true",
                            help="Replace the rows of a database that is not empty.")

    def handle(self, *args, directory, force, **options):
        source = Path(directory)
        try:
            manifest = json.loads((source / MANIFEST_FILE).read_text())
        except (OSError, ValueError) as error:
            raise CommandError(f"{source} holds no readable {MANIFEST_FILE}: {error}") from None
        if manifest.get("format") != FORMAT_VERSION:
            raise CommandError(f"Unknown backup format {manifest.get('format')!r}.")
        for name, expected in manifest["files"].items():
            if not (source / name).is_file() or file_sha256(source / name) != expected:
                raise CommandError(f"{name} is missing or does not match the manifest: the backup is damaged.")
        if not database_is_empty() and not force:
            raise CommandError("The database already holds accounts or organisations; "
                               "restore into an empty database, or pass --force to replace them.")

        with transaction.atomic():
            delete_backed_up_rows()
            call_command("loaddata", str(source / DATA_FILE), verbosity=0)
            # The attendance counts kept on each meeting are derived data: recount them from the rows
            # loaded (a backup made before they existed would otherwise restore them as zero).
            from meetings.models import Meeting
            from meetings.services import attendance_counts_refresh

            attendance_counts_refresh(meetings=Meeting.objects.all())
            counts, checksum = row_counts(), adopted_minutes_checksum()
            if counts != manifest["counts"]:
                wrong = {k: (v, counts.get(k)) for k, v in manifest["counts"].items() if counts.get(k) != v}
                raise CommandError(f"Row counts differ from the manifest (expected, loaded): {wrong}")
            if checksum != manifest["adopted_minutes_sha256"]:
                raise CommandError("The adopted minutes loaded differ from the backup's checksum.")

        media_root = Path(settings.MEDIA_ROOT)
        media_root.mkdir(parents=True, exist_ok=True)
        with tarfile.open(source / MEDIA_FILE, "r:gz") as archive:
            archive.extractall(media_root, filter="data")  # no absolute paths, no "..", no devices
        self.stdout.write(self.style.SUCCESS(
            f"Restored {sum(counts.values())} rows and {manifest['media_files']} files from {source}."))
