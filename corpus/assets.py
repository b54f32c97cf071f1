"""Which chunks are image captions, and where their images are: for citations and `quarry runs`."""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from quarry.corpus.blobs import BlobStore
from quarry.corpus.db import Database
from quarry.corpus.store import DocumentStore


@dataclass(frozen=True)
class StoredAsset:
    document_id: str
    ordinal: int
    name: str
    mime: str
    blob_key: str
    bytes: int
    width: int
    height: int
    caption: str
    location: str
    """Where to open it."""


class AssetIndex:
    def __init__(self, db: Database, blobs: BlobStore) -> None:
        self.db = db
        self.blobs = blobs
        self._store = DocumentStore(db)

    def for_chunks(self, chunk_ids: Sequence[int]) -> dict[int, StoredAsset]:
        """The image behind each caption chunk among `chunk_ids` (text chunks are left out)."""
        if not chunk_ids:
            return {}
        return {chunk: self._asset(row) for chunk, row in self._store.assets_of_chunks(chunk_ids).items()}

    def of_document(self, document_id: str) -> list[StoredAsset]:
        return [self._asset(row) for row in self._store.assets_of_document(document_id)]

    def _asset(self, row: dict[str, Any]) -> StoredAsset:
        return StoredAsset(
            row["document_id"],
            row["ordinal"],
            row["name"],
            row["mime"],
            row["blob_key"],
            row["bytes"],
            row["width"],
            row["height"],
            row["caption"],
            self.blobs.locate(row["blob_key"]),
        )
