"""The reaper: deletes blobs no committed row references, once they are older than a grace period.

Ingestion writes a document's blobs first, inside the transaction that will reference them, while
holding the blob lock shared (corpus/store.py); gc holds it exclusively while it reads references
and deletes, so it never sees a blob whose reference is about to commit. What it deletes is what
failed writes and crashes left behind. The grace period is a second guard for blob stores shared by
writers that do not take the lock. Run by `quarry gc` and at the start of every `quarry ingest`.
"""

import time
from dataclasses import dataclass

from quarry.corpus.blobs import LocalBlobStore, S3BlobStore
from quarry.corpus.db import Database
from quarry.corpus.store import DocumentStore


@dataclass(frozen=True)
class GcReport:
    blobs: int
    referenced: int
    deleted: int
    kept_young: int
    """Unreferenced but inside the grace period."""
    incomplete_removed: int
    """Temporary files of interrupted writes."""
    freed_bytes: int


def collect_garbage(
    db: Database, blobs: LocalBlobStore | S3BlobStore, *, grace_seconds: float, dry_run: bool = False
) -> GcReport:
    with DocumentStore(db).blob_references() as referenced:
        listed = list(blobs.list())
        now = time.time()
        deleted = kept = freed = 0
        for blob in listed:
            if blob.key in referenced:
                continue
            if now - blob.modified < grace_seconds:
                kept += 1
                continue
            if not dry_run:
                blobs.delete(blob.key)
            deleted += 1
            freed += blob.size
        incomplete = 0 if dry_run else blobs.remove_incomplete(grace_seconds)
    return GcReport(len(listed), len(listed) - deleted - kept, deleted, kept, incomplete, freed)
