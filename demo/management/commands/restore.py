"""``manage.py restore DIR``: load a ``backup`` into a freshly migrated, empty database.

The files are checked against the manifest first. The rows are loaded in one transaction: the rows
that ``migrate`` seeded (document types, dues rates, scoring schemes) are replaced by the backup's,
then the row counts and the SHA-256 of the adopted minutes must equal the manifest's, or nothing is
kept; when the minutes differ, the message names each row and field that differs between the backup
and what was loaded (or says that the backup disagrees with its own manifest). The uploaded files
are unpacked into MEDIA_ROOT afterwards.

An encrypted backup (``data.json.enc``, ``media.tar.gz.enc``) is opened with ``BACKUP_KEY``: the key
must be the one named in the manifest (``key_id``), else the restore stops at once saying so; the
files are decrypted into a private temporary directory, removed afterwards.

``--force`` replaces the rows of a database that already holds accounts or organisations, and keeps
a restore whose counts or minutes differ from the manifest: the differences are printed as warnings
instead of undoing the restore. A damaged file (its SHA-256 is not the manifest's) is never loaded.
"""

import contextlib
import json
import tarfile
import tempfile
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import serializers
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from lib import encryption
from reports import rollups

from .backup import (
    ASSIGNEES,
    DATA_FILE,
    ENCRYPTED_SUFFIX,
    MANIFEST_FILE,
    MEDIA_FILE,
    MINUTES_MODELS,
    READABLE_FORMATS,
    adopted_minutes_checksum,
    canonical,
    dump_order,
    file_sha256,
    minutes_checksum,
    minutes_groups_from_database,
    row_counts,
)

# How many differing rows a message names before it says "and N more".
DIFFERENCES_SHOWN = 20


def database_is_empty() -> bool:
    from cells.models import Member, Organisation

    return not (get_user_model().objects.exists() or Organisation.objects.exists() or Member.objects.exists())


def delete_backed_up_rows() -> None:
    """Empty the backed-up tables, dependants first (so PROTECT never stops the deletion)."""
    from cells.models import Organisation

    for model in reversed(dump_order()):
        rows = model._base_manager.all()
        if model is Organisation:  # parent is PROTECT: the deepest level first
            for depth in sorted(set(rows.values_list("depth", flat=True)), reverse=True):
                rows.filter(depth=depth).delete()
        else:
            rows.delete()


def minutes_groups_from_dump(path: Path) -> list:
    """The adopted minutes as ``backup.minutes_groups_from_database`` gives them, but read from the dump.

    Only the records of the minutes' models are deserialised (after the load, so that a natural key
    such as an amendment's author resolves); each becomes the dict of column values ``.values()``
    gives, so that the two sides are compared value by value.
    """
    with open(path, encoding="utf-8") as stream:
        records = [record for record in json.load(stream) if record.get("model") in MINUTES_MODELS]
    rows = {label: {} for label in MINUTES_MODELS}
    assignees = {}
    for restored in serializers.deserialize("python", records, handle_forward_references=True):
        instance = restored.object
        rows[instance._meta.label_lower][instance.pk] = {
            field.attname: field.value_from_object(instance) for field in instance._meta.concrete_fields
        }
        for member_id in restored.m2m_data.get("assignees", ()):
            assignees[(instance.pk, member_id)] = [instance.pk, member_id]
    adopted = {pk for pk, row in rows["meetings.meeting"].items() if row["state"] == "minutes_adopted"}
    groups = []
    for label in MINUTES_MODELS:
        kept = sorted(
            (pk, row)
            for pk, row in rows[label].items()
            if (pk if label == "meetings.meeting" else row["meeting_id"]) in adopted
        )
        groups.append((label, kept))
        if label == "meetings.task":
            tasks = {pk for pk, _row in kept}
            groups.append((ASSIGNEES, sorted(item for item in assignees.items() if item[0][0] in tasks)))
    return groups


def minutes_differences(*, backed_up, loaded) -> list[str]:
    """Each row or field of the adopted minutes that is not the same in ``backed_up`` and ``loaded``."""
    differences = []
    loaded = dict(loaded)
    for label, rows in backed_up:
        theirs = dict(loaded.get(label, []))
        ours = dict(rows)
        for key in sorted(set(ours) | set(theirs), key=str):
            name = f"{label} #{key[0]}→{key[1]}" if label == ASSIGNEES else f"{label} #{key}"
            if key not in theirs:
                differences.append(f"{name}: in the backup, not loaded")
            elif key not in ours:
                differences.append(f"{name}: loaded, not in the backup")
            elif label != ASSIGNEES:
                for field in sorted(set(ours[key]) | set(theirs[key])):
                    before, after = canonical(ours[key].get(field)), canonical(theirs[key].get(field))
                    if before != after:
                        differences.append(f"{name} {field}: backup {before}, loaded {after}")
    return differences


def describe_minutes_mismatch(*, data_path: Path, expected: str) -> str:
    """Why the loaded minutes' checksum is not the manifest's, row by row."""
    from_dump = minutes_groups_from_dump(data_path)
    loaded = [(label, list(rows)) for label, rows in minutes_groups_from_database()]
    differences = minutes_differences(backed_up=from_dump, loaded=loaded)
    lines = []
    if minutes_checksum(from_dump) != expected:
        lines.append(
            f"{DATA_FILE} itself disagrees with the checksum in {MANIFEST_FILE}: the backup is inconsistent "
            "(made by a version that read no single snapshot) or its manifest was edited."
        )
    if differences:
        shown = differences[:DIFFERENCES_SHOWN]
        more = len(differences) - len(shown)
        lines += shown + ([f"… and {more} more"] if more else [])
    return "The adopted minutes loaded differ from the backup's checksum:\n  " + "\n  ".join(lines or ["(no row)"])


@contextlib.contextmanager
def plain_files(source: Path, manifest: dict):
    """The backup's data and media as plain files: as they are, or decrypted into a private temporary
    directory with BACKUP_KEY (checked against the manifest's ``key_id`` first)."""
    encrypted = manifest.get("encryption")
    if not encrypted:
        yield source / DATA_FILE, source / MEDIA_FILE
        return
    from django.conf import settings as django_settings

    if not django_settings.BACKUP_KEY:
        raise CommandError(
            f"This backup is encrypted: set BACKUP_KEY to the key it was made with (key id {encrypted['key_id']})."
        )
    key = encryption.parse_key(django_settings.BACKUP_KEY)
    if encryption.key_id(key) != encrypted["key_id"]:
        raise CommandError(
            f"Wrong BACKUP_KEY: this backup was made with the key {encrypted['key_id']}, "
            f"BACKUP_KEY is the key {encryption.key_id(key)}. Nothing was restored."
        )
    with tempfile.TemporaryDirectory(prefix="restore-") as scratch:  # mode 0700: this user only
        plain = []
        for name in (DATA_FILE, MEDIA_FILE):
            try:
                encryption.decrypt_file(source / (name + ENCRYPTED_SUFFIX), Path(scratch) / name, key)
            except encryption.DecryptionError as error:
                raise CommandError(
                    f"{name}{ENCRYPTED_SUFFIX} does not decrypt with BACKUP_KEY ({error}). Nothing was restored."
                ) from None
            plain.append(Path(scratch) / name)
        yield plain[0], plain[1]


class Command(BaseCommand):
    help = "Restore a backup made by `backup` into an empty database (all or nothing)."

    def add_arguments(self, parser):
        parser.add_argument("directory")
        parser.add_argument(
            "--force",
            action="store_true",
            help="Replace the rows of a database that is not empty, and keep a restore whose rows "
            "differ from the manifest (the differences are printed).",
        )

    def handle(self, *args, directory, force, **options):
        source = Path(directory)
        try:
            manifest = json.loads((source / MANIFEST_FILE).read_text())
        except (OSError, ValueError) as error:
            raise CommandError(f"{source} holds no readable {MANIFEST_FILE}: {error}") from None
        format_version = manifest.get("format")
        if format_version not in READABLE_FORMATS:
            raise CommandError(f"Unknown backup format {format_version!r}.")
        for name, expected in manifest["files"].items():
            if not (source / name).is_file() or file_sha256(source / name) != expected:
                raise CommandError(f"{name} is missing or does not match the manifest: the backup is damaged.")
        if not database_is_empty() and not force:
            raise CommandError(
                "The database already holds accounts or organisations; "
                "restore into an empty database, or pass --force to replace them."
            )

        with plain_files(source, manifest) as (data_path, media_path):
            # The monthly rollups (reports.rollups) are derived data too: rebuilt from the rows loaded.
            with transaction.atomic(), rollups.suspended():
                delete_backed_up_rows()
                call_command("loaddata", str(data_path), verbosity=0)
                # The attendance counts kept on each meeting are derived data: recount them from the rows
                # loaded (a backup made before they existed would otherwise restore them as zero).
                from meetings.models import Meeting
                from meetings.services import attendance_counts_refresh

                attendance_counts_refresh(meetings=Meeting.objects.all())
                counts = row_counts()
                problems = []
                if counts != manifest["counts"]:
                    wrong = {k: (v, counts.get(k)) for k, v in manifest["counts"].items() if counts.get(k) != v}
                    problems.append(f"Row counts differ from the manifest (expected, loaded): {wrong}")
                if adopted_minutes_checksum(format_version=format_version) != manifest["adopted_minutes_sha256"]:
                    problems.append(
                        describe_minutes_mismatch(data_path=data_path, expected=manifest["adopted_minutes_sha256"])
                        if format_version > 1
                        else "The adopted minutes loaded differ from the backup's checksum."
                    )
                if problems and not force:
                    raise CommandError("\n".join(problems))
                for problem in problems:
                    self.stderr.write(self.style.WARNING(f"Kept because of --force: {problem}"))

            media_root = Path(settings.MEDIA_ROOT)
            media_root.mkdir(parents=True, exist_ok=True)
            with tarfile.open(media_path, "r:gz") as archive:
                archive.extractall(media_root, filter="data")  # no absolute paths, no "..", no devices
        for name in manifest.get("media_missing", []):
            self.stderr.write(self.style.WARNING(f"Not in the backup (deleted while it was taken): {name}"))
        self.stdout.write(
            self.style.SUCCESS(
                f"Restored {sum(counts.values())} rows and {manifest['media_files']} files from {source}."
            )
        )
