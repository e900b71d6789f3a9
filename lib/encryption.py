"""Files encrypted with a key from the environment: AES-256-GCM in chunks, so a large file is written
and read as a stream (never whole in memory), and any change, reordering or truncation is detected.

Format: an 12-byte header (``MAGIC`` and a random 7-byte nonce prefix), then chunks, each a 4-byte
big-endian length and the AES-GCM output of up to ``CHUNK_SIZE`` bytes of plain text. A chunk's nonce
is the prefix, its index (4 bytes) and a last-chunk flag (1 byte); the header is the associated data
of every chunk. A file cut at a chunk boundary fails on its last chunk (it was sealed "not last");
a swapped chunk fails on its index; a wrong key fails on the first chunk.

The key is 32 random bytes written in URL-safe base64 (the same text form as a Fernet key):
``generate_key()`` makes one.
"""

import base64
import hashlib
import os
import struct

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

MAGIC = b"PCBK\x01"
PREFIX_SIZE = 7
HEADER_SIZE = len(MAGIC) + PREFIX_SIZE
CHUNK_SIZE = 1 << 20
SCHEME = "AES-256-GCM, 1 MiB chunks"


class InvalidKey(ValueError):
    """The key text is not 32 bytes in URL-safe base64."""


class DecryptionError(ValueError):
    """The file does not open with this key (a wrong key, or a damaged or truncated file)."""


def generate_key() -> str:
    return base64.urlsafe_b64encode(os.urandom(32)).decode()


def parse_key(text: str) -> bytes:
    try:
        key = base64.urlsafe_b64decode(text.strip().encode())
    except (ValueError, TypeError):
        key = b""
    if len(key) != 32:
        raise InvalidKey("expected 32 bytes in URL-safe base64 (make one with `manage.py backup --generate-key`)")
    return key


def key_id(key: bytes) -> str:
    """A short public name of a key (a hash of it): tells which key a file was made with, reveals nothing."""
    return hashlib.sha256(b"portal-backup-key-id" + key).hexdigest()[:16]


def _nonce(prefix: bytes, index: int, last: bool) -> bytes:
    return prefix + struct.pack(">I", index) + (b"\x01" if last else b"\x00")


class EncryptingWriter:
    """A binary file-like object: what is written to it lands encrypted in ``path``; ``close()`` seals it."""

    def __init__(self, path, key: bytes):
        self._aead = AESGCM(key)
        self._prefix = os.urandom(PREFIX_SIZE)
        self._header = MAGIC + self._prefix
        self._file = open(path, "wb")  # noqa: SIM115 - closed by close()
        self._file.write(self._header)
        self._pending = bytearray()
        self._index = 0
        self.closed = False

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        self._pending += data
        # Keep at least one byte back: the last chunk is sealed as last only in close().
        while len(self._pending) > CHUNK_SIZE:
            self._seal(bytes(self._pending[:CHUNK_SIZE]), last=False)
            del self._pending[:CHUNK_SIZE]
        return len(data)

    def flush(self) -> None:
        self._file.flush()

    def _seal(self, chunk: bytes, *, last: bool) -> None:
        sealed = self._aead.encrypt(_nonce(self._prefix, self._index, last), chunk, self._header)
        self._file.write(struct.pack(">I", len(sealed)) + sealed)
        self._index += 1

    def close(self) -> None:
        if self.closed:
            return
        self._seal(bytes(self._pending), last=True)
        self._pending.clear()
        self._file.close()
        self.closed = True

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def decrypt_chunks(path, key: bytes):
    """The plain text of an encrypted file, chunk by chunk; DecryptionError if it does not open."""
    aead = AESGCM(key)
    with open(path, "rb") as stream:
        header = stream.read(HEADER_SIZE)
        if len(header) != HEADER_SIZE or not header.startswith(MAGIC):
            raise DecryptionError("not an encrypted backup file")
        prefix = header[len(MAGIC) :]
        index = 0
        length = stream.read(4)
        while True:
            if len(length) != 4:
                raise DecryptionError("the file is truncated")
            sealed = stream.read(struct.unpack(">I", length)[0])
            length = stream.read(4)
            last = not length
            try:
                yield aead.decrypt(_nonce(prefix, index, last), sealed, header)
            except InvalidTag:
                raise DecryptionError("wrong key, or the file was changed or truncated") from None
            if last:
                return
            index += 1


def decrypt_file(source, target, key: bytes) -> None:
    """Write the plain text of ``source`` to ``target``; on failure ``target`` is removed."""
    try:
        with open(target, "wb") as out:
            for chunk in decrypt_chunks(source, key):
                out.write(chunk)
    except BaseException:
        try:
            os.unlink(target)
        except FileNotFoundError:
            pass
        raise
