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
from typing import Any, Protocol

from quarry.errors import BlobError


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


class S3Client(Protocol):
    """The calls S3BlobStore makes on a boto3 S3 client (boto3 ships no types without boto3-stubs)."""

    def copy_object(self, **kwargs: Any) -> Any: ...
    def put_object(self, **kwargs: Any) -> Any: ...
    def get_object(self, **kwargs: Any) -> Any: ...
    def head_object(self, **kwargs: Any) -> Any: ...
    def delete_object(self, **kwargs: Any) -> Any: ...
    def get_paginator(self, operation_name: str) -> Any: ...


class S3BlobStore:
    """Blobs in an S3-compatible bucket (AWS S3, MinIO, Ceph…) under `prefix/ab/cd/<sha256>`, for
    workers on many machines. Needs the `s3` extra (boto3). A put checks for the key first (content
    addressing makes it idempotent) and re-copies an existing object onto itself to refresh its age,
    as the local store touches its file. S3 writes are atomic per object; no temporary keys."""

    def __init__(
        self, bucket: str, *, prefix: str = "quarry-blobs", client: S3Client | None = None, **client_options: object
    ) -> None:
        if client is None:
            try:
                import boto3
            except ImportError:
                raise BlobError("the S3 blob store needs boto3: pip install -e '.[s3]'") from None
            client = boto3.client("s3", **client_options)
        self.client = client
        self.bucket = bucket
        self.prefix = prefix.strip("/")

    def put(self, data: bytes) -> str:
        key = blob_key(data)
        name = self._name(key)
        try:
            if self.exists(key):
                self.client.copy_object(
                    Bucket=self.bucket,
                    Key=name,
                    CopySource={"Bucket": self.bucket, "Key": name},
                    MetadataDirective="REPLACE",
                )
            else:
                self.client.put_object(Bucket=self.bucket, Key=name, Body=data, ChecksumAlgorithm="SHA256")
        except Exception as exc:  # botocore's errors are not importable without the extra
            raise BlobError(f"cannot write blob {key[:12]}… to s3://{self.bucket}/{self.prefix}: {exc}") from None
        return key

    def get(self, key: str) -> bytes:
        try:
            data: bytes = self.client.get_object(Bucket=self.bucket, Key=self._name(key))["Body"].read()
        except Exception as exc:
            raise BlobError(f"blob {key} is missing from s3://{self.bucket}/{self.prefix}: {exc}") from None
        if blob_key(data) != key:
            raise BlobError(
                f"blob {key} in s3://{self.bucket}/{self.prefix} is corrupt: its content does not hash to its key"
            )
        return data

    def exists(self, key: str) -> bool:
        try:
            self.client.head_object(Bucket=self.bucket, Key=self._name(key))
        except Exception as exc:
            if getattr(exc, "response", {}).get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return False
            raise BlobError(f"cannot reach s3://{self.bucket}: {exc}") from None
        return True

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self._name(key))

    def list(self) -> Iterator[BlobInfo]:
        pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=self.prefix + "/")
        for page in pages:
            for item in page.get("Contents", []):
                yield BlobInfo(item["Key"].rsplit("/", 1)[-1], item["Size"], item["LastModified"].timestamp())

    def remove_incomplete(self, older_than: float) -> int:
        """S3 has no partial objects: nothing to remove."""
        return 0

    def locate(self, key: str) -> str:
        return f"s3://{self.bucket}/{self._name(key)}"

    def _name(self, key: str) -> str:
        if len(key) != 64 or any(c not in "0123456789abcdef" for c in key):
            raise BlobError(f"'{key}' is not a blob key (64 lowercase hex digits)")
        return f"{self.prefix}/{key[:2]}/{key[2:4]}/{key}"
