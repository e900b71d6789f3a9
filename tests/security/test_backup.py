"""Backup and restore: a round trip keeps every row, the adopted minutes and the uploaded files."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError

from cells.management.commands.backup import adopted_minutes_checksum, row_counts
from cells.management.commands.restore import delete_backed_up_rows
from cells.models import AuditEntry, Organisation
from meetings.models import Meeting, MeetingDocument

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]


def media_files() -> dict[str, bytes]:
    root = Path(settings.MEDIA_ROOT)
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def wipe(media_root: Path) -> None:
    """What a new server starts with: the tables emptied, no uploaded files."""
    delete_backed_up_rows()
    for path in sorted(media_root.rglob("*"), reverse=True):
        path.unlink() if path.is_file() else path.rmdir()


def test_backup_writes_data_media_and_a_manifest(objects, tmp_path):
    call_command("backup", output=str(tmp_path / "b"), verbosity=0)
    manifest = json.loads((tmp_path / "b" / "manifest.json").read_text())
    assert manifest["counts"]["meetings.meeting"] == Meeting.objects.count() == 1
    assert manifest["counts"]["auth.user"] == 7
    assert manifest["adopted_minutes_sha256"] == adopted_minutes_checksum()
    assert manifest["media_files"] == len(media_files()) >= 4  # meeting document, cell document, report files
    assert set(manifest["files"]) == {"data.json", "media.tar.gz"}
    with pytest.raises(CommandError, match="already holds a backup"):
        call_command("backup", output=str(tmp_path / "b"), verbosity=0)


def test_round_trip_restores_every_row_the_minutes_checksum_and_the_files(objects, tmp_path):
    counts, checksum, files = row_counts(), adopted_minutes_checksum(), media_files()
    meeting = Meeting.objects.get(state=Meeting.State.MINUTES_ADOPTED)
    call_command("backup", output=str(tmp_path / "b"), verbosity=0)

    wipe(Path(settings.MEDIA_ROOT))
    assert not Organisation.objects.exists() and media_files() == {}
    call_command("restore", str(tmp_path / "b"), verbosity=0)

    assert row_counts() == counts
    assert adopted_minutes_checksum() == checksum
    assert media_files() == files
    restored = Meeting.objects.get(pk=meeting.pk)
    assert restored.minutes_reference == meeting.minutes_reference and restored.resolution.text
    document = MeetingDocument.objects.get()
    assert document.file.read() == files[document.file.name]
    # New rows after a restore get fresh keys (the sequences were moved past the loaded ones).
    assert AuditEntry.objects.create(action="test.after.restore", object_type="x", object_id="1").pk > max(
        AuditEntry.objects.exclude(action="test.after.restore").values_list("pk", flat=True))


def test_a_timestamp_under_a_millisecond_past_the_second_survives_the_round_trip(objects, tmp_path):
    # dumpdata keeps milliseconds: 10:00:00.000500 comes back as 10:00:00, and the checksum must agree.
    meeting = Meeting.objects.get(state=Meeting.State.MINUTES_ADOPTED)
    adopted_at = meeting.adopted_at.replace(microsecond=500)
    Meeting.objects.filter(pk=meeting.pk).update(adopted_at=adopted_at)
    checksum = adopted_minutes_checksum()
    call_command("backup", output=str(tmp_path / "b"), verbosity=0)
    wipe(Path(settings.MEDIA_ROOT))
    call_command("restore", str(tmp_path / "b"), verbosity=0)
    assert Meeting.objects.get(pk=meeting.pk).adopted_at == adopted_at.replace(microsecond=0)
    assert adopted_minutes_checksum() == checksum


def test_restore_refuses_a_database_that_is_not_empty_unless_forced(objects, tmp_path):
    call_command("backup", output=str(tmp_path / "b"), verbosity=0)
    counts = row_counts()
    with pytest.raises(CommandError, match="already holds accounts or organisations"):
        call_command("restore", str(tmp_path / "b"), verbosity=0)
    Organisation.objects.filter(pk=objects["cell"]).update(name="Đổi tên sau sao lưu")
    call_command("restore", str(tmp_path / "b"), force=True, verbosity=0)
    assert row_counts() == counts
    assert Organisation.objects.get(pk=objects["cell"]).name == "Chi bộ Văn phòng"


def test_a_damaged_or_inconsistent_backup_writes_nothing(objects, tmp_path):
    call_command("backup", output=str(tmp_path / "b"), verbosity=0)
    wipe(Path(settings.MEDIA_ROOT))
    data = tmp_path / "b" / "data.json"
    original = data.read_bytes()
    data.write_bytes(original.replace("Chi bộ Văn phòng".encode(), "Chi bộ Khác".encode()))
    assert data.read_bytes() != original
    with pytest.raises(CommandError, match="does not match the manifest"):
        call_command("restore", str(tmp_path / "b"), verbosity=0)
    data.write_bytes(original)
    manifest_path = tmp_path / "b" / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["counts"]["meetings.meeting"] += 1
    manifest_path.write_text(json.dumps(manifest))
    with pytest.raises(CommandError, match="Row counts differ"):
        call_command("restore", str(tmp_path / "b"), verbosity=0)
    assert not Organisation.objects.exists() and not Meeting.objects.exists()  # rolled back as a whole
    assert media_files() == {}


def test_restore_into_a_freshly_migrated_database_in_another_process(objects, tmp_path):
    """The real case: a new server, `migrate` (which seeds document types, dues rates, schemes), `restore`."""
    call_command("backup", output=str(tmp_path / "b"), verbosity=0)
    original = json.loads((tmp_path / "b" / "manifest.json").read_text())
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST") and k != "REDIS_URL"}
    env.update({"DJANGO_SETTINGS_MODULE": "config.settings.base", "DATABASE_URL": f"sqlite:///{tmp_path / 'new.sqlite3'}",
                "MEDIA_ROOT": str(tmp_path / "new-media")})

    def manage(*args):
        result = subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True,
                                text=True, timeout=300)
        assert result.returncode == 0, result.stdout + result.stderr

    manage("migrate", "--verbosity", "0")
    manage("restore", str(tmp_path / "b"))
    manage("backup", "--output", str(tmp_path / "again"))
    again = json.loads((tmp_path / "again" / "manifest.json").read_text())
    assert again["counts"] == original["counts"]
    assert again["adopted_minutes_sha256"] == original["adopted_minutes_sha256"]
    restored = tmp_path / "new-media"
    assert {str(p.relative_to(restored)) for p in restored.rglob("*") if p.is_file()} == set(media_files())
