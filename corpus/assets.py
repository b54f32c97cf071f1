"""Which chunks are image captions, and where their images are: for citations and `quarry runs`."""

from collections.abc import Sequence
from dataclasses import dataclass

from quarry.corpus.blobs import BlobStore
from quarry.corpus.db import Database


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

    def for_chunks(self, chunk_ids: Sequence[int]) -> dict[int, StoredAsset]:
        """The image behind each caption chunk among `chunk_ids` (text chunks are left out)."""
        if not chunk_ids:
            return {}
        with self.db.transaction() as conn:
            rows = conn.execute(
                "SELECT c.id AS chunk_id, a.* FROM chunks c JOIN assets a"
                " ON a.document_id = c.document_id AND a.ordinal = c.asset_ordinal WHERE c.id = ANY(%s)",
                (list(chunk_ids),),
            ).fetchall()
        return {row.pop("chunk_id"): self._asset(row) for row in rows}

    def of_document(self, document_id: str) -> list[StoredAsset]:
        with self.db.transaction() as conn:
            rows = conn.execute(
                "SELECT * FROM assets WHERE document_id = %s ORDER BY ordinal", (document_id,)
            ).fetchall()
        return [self._asset(row) for row in rows]

    def _asset(self, row: dict) -> StoredAsset:
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
