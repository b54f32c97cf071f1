"""Blob stores for document assets (images): content-addressed by sha256, idempotent puts.

Assets are written here *before* the database transaction that references them commits, so a crash
can leave a blob nobody references, never a row whose blob is missing. `quarry gc` deletes the
unreferenced ones after a grace period (corpus/gc.py). A put of a blob that already exists only
refreshes its modification time, which restarts its grace period: a concurrent ingest that is about
to commit a reference to an old orphan cannot lose it to the reaper.
"""

import hashlib
import os
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from corpus.errors import CorpusError


class BlobError(CorpusError):
    """A blob could not be written or read (disk full, permissions, a corrupt object)."""


@dataclass(frozen=True)
class BlobInfo:
    key: str
    size: int
    modified: float
    """Seconds since the epoch."""


class BlobStore(Protocol):
    def put(self, data: bytes) -> str:
        """Store `data` under its sha256 (hex) and return the key; storing existing content is a no-op."""
        ...

    def get(self, key: str) -> bytes: ...

    def exists(self, key: str) -> bool: ...

    def delete(self, key: str) -> None: ...

    def list(self) -> Iterator[BlobInfo]: ...

    def locate(self, key: str) -> str:
        """Where a user can open the blob: a file path or a URL."""
        ...


def blob_key(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class LocalBlobStore:
    """Files under `root/ab/cd/<sha256>`, written to a temporary file, fsynced and renamed into place."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def put(self, data: bytes) -> str:
        key = blob_key(data)
        target = self._path(key)
        if target.exists():
            os.utime(target)
            return key
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            descriptor, temporary = tempfile.mkstemp(prefix=".incoming-", dir=target.parent)
            try:
                with os.fdopen(descriptor, "wb") as handle:
                    handle.write(data)
                    handle.flush()
                    os.fsync(handle.fileno())
                os.replace(temporary, target)
            except BaseException:
                Path(temporary).unlink(missing_ok=True)
                raise
            _fsync_directory(target.parent)
        except OSError as exc:
            raise BlobError(f"cannot write blob {key[:12]}… under {self.root}: {exc.strerror or exc}") from None
        return key

    def get(self, key: str) -> bytes:
        try:
            data = self._path(key).read_bytes()
        except FileNotFoundError:
            raise BlobError(f"blob {key} is missing from {self.root}") from None
        if blob_key(data) != key:
            raise BlobError(f"blob {key} in {self.root} is corrupt: its content does not hash to its key")
        return data

    def exists(self, key: str) -> bool:
        return self._path(key).exists()

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def list(self) -> Iterator[BlobInfo]:
        """Every stored blob (not temporary files of puts in progress: see remove_incomplete)."""
        if not self.root.exists():
            return
        for path in sorted(self.root.glob("??/??/*")):
            if path.name.startswith("."):
                continue
            try:
                stat = path.stat()
            except FileNotFoundError:
                continue
            yield BlobInfo(path.name, stat.st_size, stat.st_mtime)

    def remove_incomplete(self, older_than: float) -> int:
        """Delete temporary files of puts interrupted more than `older_than` seconds ago."""
        removed = 0
        for path in self.root.glob("??/??/.incoming-*") if self.root.exists() else ():
            try:
                if time.time() - path.stat().st_mtime >= older_than:
                    path.unlink()
                    removed += 1
            except FileNotFoundError:
                continue
        return removed

    def locate(self, key: str) -> str:
        return str(self._path(key))

    def _path(self, key: str) -> Path:
        if len(key) != 64 or any(c not in "0123456789abcdef" for c in key):
            raise BlobError(f"'{key}' is not a blob key (64 lowercase hex digits)")
        return self.root / key[:2] / key[2:4] / key


def _fsync_directory(folder: Path) -> None:
    """Make the rename itself durable (POSIX: a directory's entries are synced through the directory)."""
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
