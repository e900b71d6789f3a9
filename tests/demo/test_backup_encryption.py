"""Backups are encrypted (issue 21, personal data under Luật 91/2025/QH15): a round trip with the key
restores everything; a wrong key, a missing key or a changed file stops with a clear message and writes
nothing; a plain backup only where BACKUP_ALLOW_PLAIN (DEBUG, tests) and only when asked."""

import json
import os
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError

from cells.models import Member, Organisation
from demo.management.commands.backup import adopted_minutes_checksum, row_counts
from lib import encryption

from .test_backup import media_files, wipe

pytestmark = pytest.mark.django_db


@pytest.fixture
def key(settings):
    settings.BACKUP_KEY = encryption.generate_key()
    return settings.BACKUP_KEY


@pytest.fixture
def with_citizen_id(objects):
    Member.objects.filter(pk=objects["member"]).update(citizen_id="045123456789", phone="0912345789")
    return objects


def test_an_encrypted_backup_restores_with_its_key_and_holds_no_plain_text(with_citizen_id, key, tmp_path):
    counts, checksum, files = row_counts(), adopted_minutes_checksum(), media_files()
    call_command("backup", output=str(tmp_path / "b"), verbosity=0)
    manifest = json.loads((tmp_path / "b" / "manifest.json").read_text())
    assert manifest["encryption"] == {
        "scheme": encryption.SCHEME,
        "key_id": encryption.key_id(encryption.parse_key(key)),
    }
    data = (tmp_path / "b" / "data.json.enc").read_bytes()
    assert data.startswith(encryption.MAGIC)
    assert b"045123456789" not in data and "Chi bộ Văn phòng".encode() not in data and b'"model"' not in data

    wipe(Path(settings.MEDIA_ROOT))
    call_command("restore", str(tmp_path / "b"), verbosity=0)
    assert row_counts() == counts and adopted_minutes_checksum() == checksum and media_files() == files
    assert Member.objects.get(pk=with_citizen_id["member"]).citizen_id == "045123456789"


def test_a_wrong_key_stops_the_restore_clearly_and_restores_nothing(objects, key, tmp_path, settings):
    call_command("backup", output=str(tmp_path / "b"), verbosity=0)
    made_with = encryption.key_id(encryption.parse_key(key))
    wipe(Path(settings.MEDIA_ROOT))
    settings.BACKUP_KEY = encryption.generate_key()
    with pytest.raises(CommandError, match=f"Wrong BACKUP_KEY: this backup was made with the key {made_with}"):
        call_command("restore", str(tmp_path / "b"), verbosity=0)
    assert not Organisation.objects.exists() and media_files() == {}
    # Even with the manifest edited to name the wrong key, the files do not open with it.
    manifest_path = tmp_path / "b" / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["encryption"]["key_id"] = encryption.key_id(encryption.parse_key(settings.BACKUP_KEY))
    manifest_path.write_text(json.dumps(manifest))
    with pytest.raises(CommandError, match="data.json.enc does not decrypt with BACKUP_KEY"):
        call_command("restore", str(tmp_path / "b"), verbosity=0)
    assert not Organisation.objects.exists() and media_files() == {}


def test_an_encrypted_backup_without_a_key_says_which_key_it_needs(objects, key, tmp_path, settings):
    call_command("backup", output=str(tmp_path / "b"), verbosity=0)
    wipe(Path(settings.MEDIA_ROOT))
    settings.BACKUP_KEY = ""
    with pytest.raises(CommandError, match="This backup is encrypted: set BACKUP_KEY"):
        call_command("restore", str(tmp_path / "b"), verbosity=0)
    assert not Organisation.objects.exists()


def test_without_a_key_the_backup_refuses_and_writes_nothing(objects, settings, tmp_path):
    settings.BACKUP_KEY = ""
    with pytest.raises(CommandError, match="BACKUP_KEY is not set"):
        call_command("backup", output=str(tmp_path / "b"), verbosity=0)
    assert not (tmp_path / "b").exists()


def test_a_plain_backup_only_where_allowed_and_when_asked(objects, settings, tmp_path):
    settings.BACKUP_KEY = ""
    settings.BACKUP_ALLOW_PLAIN = False  # production: DEBUG off
    with pytest.raises(CommandError, match="--no-encrypt is for development"):
        call_command("backup", output=str(tmp_path / "b"), no_encrypt=True, verbosity=0)
    assert not (tmp_path / "b").exists()
    settings.BACKUP_ALLOW_PLAIN = True
    counts = row_counts()
    call_command("backup", output=str(tmp_path / "b"), no_encrypt=True, verbosity=0)
    assert set(os.listdir(tmp_path / "b")) == {"data.json", "media.tar.gz", "manifest.json"}
    assert json.loads((tmp_path / "b" / "manifest.json").read_text())["encryption"] is None
    wipe(Path(settings.MEDIA_ROOT))
    call_command("restore", str(tmp_path / "b"), verbosity=0)
    assert row_counts() == counts


def test_generate_key_prints_a_key_the_settings_accept(capsys):
    call_command("backup", generate_key=True)
    assert len(encryption.parse_key(capsys.readouterr().out)) == 32


# --- the chunked format ------------------------------------------------------------------------


@pytest.fixture
def small_chunks(monkeypatch):
    monkeypatch.setattr(encryption, "CHUNK_SIZE", 1000)


def _sealed(path, plain: bytes, key: bytes, pieces=7):
    with encryption.EncryptingWriter(path, key) as writer:
        for start in range(0, len(plain), pieces):
            writer.write(plain[start : start + pieces])


def test_a_file_of_many_chunks_is_streamed_and_comes_back_exactly(small_chunks, tmp_path):
    key = encryption.parse_key(encryption.generate_key())
    for size in (0, 1, 999, 1000, 1001, 10_500):
        plain = os.urandom(size)
        _sealed(tmp_path / "f", plain, key)
        chunks = list(encryption.decrypt_chunks(tmp_path / "f", key))
        assert b"".join(chunks) == plain
        assert len(chunks) == max(1, -(-size // 1000))  # ceil: never a chunk larger than CHUNK_SIZE


def test_a_cut_swapped_or_flipped_file_does_not_open(small_chunks, tmp_path):
    key = encryption.parse_key(encryption.generate_key())
    _sealed(tmp_path / "f", os.urandom(3000), key)
    whole = (tmp_path / "f").read_bytes()
    chunk = 4 + 1000 + 16
    header, first, second, rest = (
        whole[:12],
        whole[12 : 12 + chunk],
        whole[12 + chunk : 12 + 2 * chunk],
        whole[12 + 2 * chunk :],
    )
    for damaged in (
        header + first + second,  # cut after a whole chunk
        header + second + first + rest,  # two chunks swapped
        whole[:50] + bytes([whole[50] ^ 1]) + whole[51:],
    ):  # one bit flipped
        (tmp_path / "g").write_bytes(damaged)
        with pytest.raises(encryption.DecryptionError):
            b"".join(encryption.decrypt_chunks(tmp_path / "g", key))
    with pytest.raises(encryption.DecryptionError, match="wrong key"):
        b"".join(encryption.decrypt_chunks(tmp_path / "f", encryption.parse_key(encryption.generate_key())))
