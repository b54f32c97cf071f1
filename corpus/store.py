"""Writes documents with their chunks atomically, and reads them back.

A document's row, its chunks and the corpus_version bump commit in one transaction; writers of
the same document id serialise on a PostgreSQL advisory lock, so the stored state is always one
whole version of each document.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import Enum

import numpy as np

from quarry.corpus.chunking import Chunk
from quarry.corpus.db import Database
from quarry.corpus.entities import Extraction
from quarry.corpus.metadata import SourceDocument


class WriteOutcome(Enum):
    INSERTED = "inserted"
    REPLACED = "replaced"
    UNCHANGED = "unchanged"
    SUPERSEDED = "superseded"
    """A version published later is already stored; this older one was not written."""


BLOB_GC_LOCK = 0x51_4152_5259_4743
"""Advisory lock key: writers hold it shared from their blob puts to their commit, gc holds it exclusively."""

WriteHook = Callable[[str], None]
"""Told each step of a write ("rows_written", just before commit); used for fault injection and tracing."""


@dataclass(frozen=True)
class StoredDocument:
    id: str
    source: str
    title: str
    author: str
    domain: str
    published_at: datetime
    access: tuple[str, ...]
    tags: tuple[str, ...]
    body: str
    content_hash: str
    version: int


@dataclass(frozen=True)
class StoredChunk:
    id: int
    document_id: str
    ordinal: int
    text: str
    start_char: int
    end_char: int
    token_count: int


@dataclass(frozen=True)
class CorpusCounts:
    documents: int
    chunks: int
    version: int
    embedding_model: str
    embedding_dim: int


_INSERT_CHUNK = """
INSERT INTO chunks (document_id, ordinal, body, start_char, end_char, token_count, embedding,
                    domain, author, published_at, access, tags, asset_ordinal)
VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
"""
_INSERT_ASSET = """
INSERT INTO assets (document_id, ordinal, name, blob_key, mime, bytes, width, height, caption)
VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)
"""


def corpus_version(db: Database) -> int:
    """Bumped by every committed change to documents; caches (BM25, graph, semantic cache) key on it."""
    with db.transaction() as conn:
        return conn.execute("SELECT version FROM corpus_state").fetchone()["version"]


class DocumentStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    def stored_hash(self, document_id: str) -> str | None:
        with self.db.transaction() as conn:
            row = conn.execute("SELECT content_hash FROM documents WHERE id = %s", (document_id,)).fetchone()
        return row["content_hash"] if row else None

    def write(
        self,
        document: SourceDocument,
        chunks: Sequence[Chunk],
        embeddings: np.ndarray,
        extraction: Extraction | None = None,
        *,
        put_blobs: Callable[[], None] | None = None,
        hook: WriteHook | None = None,
    ) -> WriteOutcome:
        """Insert or replace `document`, its chunks, assets and graph rows in one transaction, under the
        document's advisory lock. Concurrent writers of one id serialise; a version published before
        the stored one is not written (SUPERSEDED), so the newest wins whatever the order. The
        assets' blobs are written by `put_blobs`, first, while this transaction holds the blob lock
        shared: gc cannot delete them between the put and the commit."""
        if len(chunks) != len(embeddings):
            raise ValueError(f"{len(chunks)} chunks but {len(embeddings)} embeddings for '{document.label}'")
        meta = document.metadata
        with self.db.transaction() as conn:
            conn.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", (document.id,))
            row = conn.execute(
                "SELECT content_hash, published_at FROM documents WHERE id = %s FOR UPDATE", (document.id,)
            ).fetchone()
            if row and row["content_hash"] == document.content_hash:
                return WriteOutcome.UNCHANGED
            if row and row["published_at"] > meta.published_at:
                return WriteOutcome.SUPERSEDED
            if put_blobs is not None and document.assets:
                conn.execute("SELECT pg_advisory_xact_lock_shared(%s)", (BLOB_GC_LOCK,))
                put_blobs()
            values = (
                meta.source,
                meta.title,
                meta.author,
                meta.domain,
                meta.published_at,
                list(meta.access),
                list(meta.tags),
                meta.language,
                document.text,
                document.content_hash,
            )
            if row:
                conn.execute(
                    "UPDATE documents SET source=%s, title=%s, author=%s, domain=%s, published_at=%s,"
                    " access=%s, tags=%s, language=%s, body=%s, content_hash=%s,"
                    " version = version + 1, updated_at = now() WHERE id = %s",
                    (*values, document.id),
                )
                conn.execute("DELETE FROM chunks WHERE document_id = %s", (document.id,))
                conn.execute("DELETE FROM assets WHERE document_id = %s", (document.id,))
            else:
                conn.execute(
                    "INSERT INTO documents (source, title, author, domain, published_at, access, tags,"
                    " language, body, content_hash, id) VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s)",
                    (*values, document.id),
                )
            with conn.cursor() as cur:
                cur.executemany(
                    _INSERT_CHUNK,
                    [
                        (
                            document.id,
                            c.ordinal,
                            c.text,
                            c.start_char,
                            c.end_char,
                            c.token_count,
                            np.asarray(vector, dtype=np.float32),
                            meta.domain,
                            meta.author,
                            meta.published_at,
                            list(meta.access),
                            list(meta.tags),
                            c.asset_ordinal,
                        )
                        for c, vector in zip(chunks, embeddings)
                    ],
                )
                if document.assets:
                    cur.executemany(
                        _INSERT_ASSET,
                        [
                            (document.id, n, a.name, a.key, a.mime, len(a.data), a.width, a.height, a.caption)
                            for n, a in enumerate(document.assets)
                        ],
                    )
            if extraction is not None and extraction.mentions:
                _write_graph(conn, document, extraction)
            conn.execute("UPDATE corpus_state SET version = version + 1, updated_at = now()")
            if hook is not None:
                hook("rows_written")
        return WriteOutcome.REPLACED if row else WriteOutcome.INSERTED

    def delete(self, document_id: str) -> bool:
        with self.db.transaction() as conn:
            conn.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", (document_id,))
            deleted = conn.execute("DELETE FROM documents WHERE id = %s", (document_id,)).rowcount
            if deleted:
                conn.execute("UPDATE corpus_state SET version = version + 1, updated_at = now()")
        return bool(deleted)

    def document(self, document_id: str) -> StoredDocument | None:
        with self.db.transaction() as conn:
            row = conn.execute(
                "SELECT id, source, title, author, domain, published_at, access, tags, body, content_hash,"
                " version FROM documents WHERE id = %s",
                (document_id,),
            ).fetchone()
        if row is None:
            return None
        return StoredDocument(**{**row, "access": tuple(row["access"]), "tags": tuple(row["tags"])})

    def chunks(self, document_id: str) -> list[StoredChunk]:
        with self.db.transaction() as conn:
            rows = conn.execute(
                "SELECT id, document_id, ordinal, body AS text, start_char, end_char, token_count"
                " FROM chunks WHERE document_id = %s ORDER BY ordinal",
                (document_id,),
            ).fetchall()
        return [StoredChunk(**row) for row in rows]

    def counts(self) -> CorpusCounts:
        with self.db.transaction() as conn:
            row = conn.execute(
                "SELECT (SELECT count(*) FROM documents) AS documents, (SELECT count(*) FROM chunks) AS chunks,"
                " version, embedding_model, embedding_dim FROM corpus_state"
            ).fetchone()
        return CorpusCounts(**row)

    def corpus_version(self) -> int:
        return corpus_version(self.db)

    def analyze(self) -> None:
        """Refresh planner statistics; filtered search chooses its plan from them."""
        with self.db.transaction() as conn:
            conn.execute("ANALYZE chunks")


def _write_graph(conn, document: SourceDocument, extraction: Extraction) -> None:
    """Entities are shared across documents (upserted by key); mentions and relations hang off this
    document's chunks, so replacing or deleting the document removes them by cascade."""
    chunk_ids = {
        row["ordinal"]: row["id"]
        for row in conn.execute("SELECT id, ordinal FROM chunks WHERE document_id = %s", (document.id,))
    }
    keys = sorted(extraction.names)  # sorted: concurrent writers upsert shared keys in one order, no deadlock
    rows = conn.execute(
        "INSERT INTO entities (key, name, kind)"
        " SELECT * FROM unnest(%(keys)s::text[], %(names)s::text[], %(kinds)s::text[])"
        " ON CONFLICT (key) DO UPDATE SET key = EXCLUDED.key RETURNING id, key",
        {
            "keys": keys,
            "names": [extraction.names[k][0] for k in keys],
            "kinds": [extraction.names[k][1] for k in keys],
        },
    ).fetchall()
    entity_ids = {row["key"]: row["id"] for row in rows}
    access = list(document.metadata.access)
    mentions = {(entity_ids[m.key], chunk_ids[m.chunk_ordinal], m.start_char): m for m in extraction.mentions}
    conn.execute(
        "INSERT INTO mentions (entity_id, chunk_id, document_id, start_char, end_char, access)"
        " SELECT e, c, %(doc)s, s, x, %(access)s FROM unnest(%(e)s::bigint[], %(c)s::bigint[], %(s)s::int[], %(x)s::int[])"
        " AS t(e, c, s, x)",
        {
            "doc": document.id,
            "access": access,
            "e": [k[0] for k in mentions],
            "c": [k[1] for k in mentions],
            "s": [k[2] for k in mentions],
            "x": [m.end_char for m in mentions.values()],
        },
    )
    relations = [r for r in extraction.relations if r.source_key != r.target_key]
    if relations:
        conn.execute(
            "INSERT INTO relations (source_id, target_id, label, chunk_id, document_id, access)"
            " SELECT a, b, l, c, %(doc)s, %(access)s"
            " FROM unnest(%(a)s::bigint[], %(b)s::bigint[], %(l)s::text[], %(c)s::bigint[]) AS t(a, b, l, c)",
            {
                "doc": document.id,
                "access": access,
                "a": [entity_ids[r.source_key] for r in relations],
                "b": [entity_ids[r.target_key] for r in relations],
                "l": [r.label for r in relations],
                "c": [chunk_ids[r.chunk_ordinal] for r in relations],
            },
        )
