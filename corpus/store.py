"""The documents store: documents, chunks, assets and corpus_state, and all of their SQL.

A document's row, its chunks, assets, graph rows and the corpus_version bump commit in one
transaction; writers of the same document id serialise on a PostgreSQL advisory lock, so the stored
state is always one whole version of each document. The retrievers read chunks through here: dense
search, BM25's index rows, hydrating ranked ids into Hits, the reranker's vectors, and the chunk
scope graph retrieval narrows its mentions to. Every read for a reader carries `chunk_predicate`,
whose access clause comes from corpus/access.py.
"""

import json
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Any, Protocol, TypeVar

import numpy as np

from quarry.corpus import access
from quarry.corpus.chunking import Chunk
from quarry.corpus.db import Connection, Database, RowConnection, one_row
from quarry.corpus.entities import Extraction
from quarry.corpus.filters import Principal, SearchFilters
from quarry.corpus.graph_store import write_graph
from quarry.corpus.metadata import SourceDocument

TABLES = ("corpus_state", "documents", "chunks", "assets")


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
class Hit:
    """What a retriever returns: a chunk with the provenance a citation needs."""

    chunk_id: int
    document_id: str
    ordinal: int
    title: str
    source: str
    author: str
    domain: str
    published_at: datetime
    start_char: int
    end_char: int
    text: str
    score: float


class ScanPlan(Protocol):
    """How dense search scans: exactly, or through HNSW with this ef_search."""

    @property
    def strategy(self) -> str: ...

    @property
    def ef_search(self) -> int | None: ...


PlanT = TypeVar("PlanT", bound=ScanPlan)


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


def _hit_columns(chunk: str) -> str:
    """The SELECT list that builds a Hit from `chunk` (an alias of chunks) joined to documents as d; score apart."""
    return (
        f"{chunk}.id AS chunk_id, {chunk}.document_id, {chunk}.ordinal, d.title, d.source, d.author, d.domain,"
        f" d.published_at, {chunk}.start_char, {chunk}.end_char, {chunk}.body AS text"
    )


_SELECT_NEAREST = f"""
SELECT {_hit_columns("h")}, 1 - h.distance AS score
FROM hits h JOIN documents d ON d.id = h.document_id
ORDER BY h.distance, h.id
"""

# MATERIALIZED keeps the planner from pushing the ORDER BY into the HNSW index: exact by construction.
_NEAREST_EXACT = (
    """
WITH candidates AS MATERIALIZED (
    SELECT id, document_id, ordinal, body, start_char, end_char, embedding FROM chunks WHERE {predicate}
), hits AS (
    SELECT id, document_id, ordinal, body, start_char, end_char, embedding <=> %(q)s AS distance
    FROM candidates ORDER BY embedding <=> %(q)s, id LIMIT %(k)s
)
"""
    + _SELECT_NEAREST
)

_NEAREST_INDEXED = (
    """
WITH hits AS (
    SELECT id, document_id, ordinal, body, start_char, end_char, embedding <=> %(q)s AS distance
    FROM chunks WHERE {predicate} ORDER BY embedding <=> %(q)s LIMIT %(k)s
)
"""
    + _SELECT_NEAREST
)


def chunk_predicate(filters: SearchFilters, principal: Principal, *, alias: str = "") -> tuple[str, dict[str, Any]]:
    """SQL boolean expression over the chunks table (optionally aliased) and its named parameters:
    the reader rule (corpus/access.py) and the metadata filters."""
    col = f"{alias}." if alias else ""
    clause, params = access.sql_predicate(principal.groups, column=f"{col}access", param="f_groups")
    clauses = [clause]
    if filters.domains:
        clauses.append(f"{col}domain = ANY(%(f_domains)s::text[])")
        params["f_domains"] = list(filters.domains)
    if filters.authors:
        clauses.append(f"{col}author = ANY(%(f_authors)s::text[])")
        params["f_authors"] = list(filters.authors)
    if filters.tags:
        clauses.append(f"{col}tags && %(f_tags)s::text[]")
        params["f_tags"] = list(filters.tags)
    if filters.published_after:
        clauses.append(f"{col}published_at >= %(f_after)s")
        params["f_after"] = filters.published_after
    if filters.published_before:
        clauses.append(f"{col}published_at < %(f_before)s")
        params["f_before"] = filters.published_before
    return " AND ".join(clauses), params


def embedding_space(conn: Connection) -> tuple[str, int]:
    """The embedding model and dimension the corpus was built with (on a connection of the migrator)."""
    row = conn.execute("SELECT embedding_model, embedding_dim FROM corpus_state").fetchone()
    if row is None:
        raise LookupError("corpus_state has no row: the migrations did not run")
    return str(row[0]), int(row[1])


def corpus_version(db: Database) -> int:
    """Bumped by every committed change to documents; caches (BM25, graph, semantic cache) key on it."""
    with db.transaction() as conn:
        return int(one_row(conn.execute("SELECT version FROM corpus_state"))["version"])


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
                chunk_ids = {
                    row["ordinal"]: row["id"]
                    for row in conn.execute("SELECT id, ordinal FROM chunks WHERE document_id = %s", (document.id,))
                }
                write_graph(conn, document.id, meta.access, extraction, chunk_ids)
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
            row = one_row(
                conn.execute(
                    "SELECT (SELECT count(*) FROM documents) AS documents, (SELECT count(*) FROM chunks) AS chunks,"
                    " version, embedding_model, embedding_dim FROM corpus_state"
                )
            )
        return CorpusCounts(**row)

    def corpus_version(self) -> int:
        return corpus_version(self.db)

    def metadata_spellings(self) -> dict[str, list[str]]:
        """The distinct authors, domains and tags as stored (filters match them exactly)."""
        with self.db.transaction() as conn:
            row = one_row(
                conn.execute(
                    "SELECT coalesce((SELECT array_agg(DISTINCT author) FROM documents), '{}') AS authors,"
                    " coalesce((SELECT array_agg(DISTINCT domain) FROM documents), '{}') AS domains,"
                    " coalesce((SELECT array_agg(DISTINCT t) FROM documents, unnest(tags) AS t), '{}') AS tags"
                )
            )
        return {key: list(row[key]) for key in ("authors", "domains", "tags")}

    def analyze(self) -> None:
        """Refresh planner statistics; filtered search chooses its plan from them."""
        with self.db.transaction() as conn:
            conn.execute("ANALYZE chunks")

    # Reads for retrieval: every one that serves a reader runs under db.reading with chunk_predicate.

    def nearest(
        self,
        vector: np.ndarray,
        *,
        k: int,
        principal: Principal,
        filters: SearchFilters,
        choose: Callable[[int, int], PlanT],
    ) -> tuple[list[Hit], PlanT]:
        """Top-k readable, admitted chunks by cosine distance to `vector`. `choose(estimated_rows, total_rows)`
        picks the scan from planner estimates of how many chunks pass the predicate."""
        predicate, params = chunk_predicate(filters, principal)
        counted = None
        if self.db.config.row_security:
            # Estimated under the reader role, the policy's access test would be counted on top of the
            # predicate's: a 20% filter would look like 4%, and an index search like an exact one.
            with self.db.transaction() as conn:
                counted = _estimated_rows(conn, predicate, params), _total_rows(conn)
        with self.db.reading(principal.groups) as conn:
            plan = choose(*(counted or (_estimated_rows(conn, predicate, params), _total_rows(conn))))
            if plan.ef_search is not None:
                conn.execute(f"SET LOCAL hnsw.ef_search = {int(plan.ef_search)}")
            sql = (_NEAREST_EXACT if plan.strategy == "exact" else _NEAREST_INDEXED).format(predicate=predicate)
            rows = conn.execute(sql, {**params, "q": vector, "k": k}).fetchall()
        return [Hit(**row) for row in rows], plan

    def hits(
        self, chunk_ids: Sequence[int], scores: Sequence[float], filters: SearchFilters, principal: Principal
    ) -> list[Hit]:
        """Hydrate ranked chunk ids into Hits in the given order, re-applying the access/filter predicate in SQL
        (defence in depth for retrievers that rank outside PostgreSQL)."""
        if not chunk_ids:
            return []
        predicate, params = chunk_predicate(filters, principal, alias="c")
        with self.db.reading(principal.groups) as conn:
            rows = conn.execute(
                f"SELECT {_hit_columns('c')}"
                f" FROM chunks c JOIN documents d ON d.id = c.document_id WHERE c.id = ANY(%(ids)s) AND {predicate}",
                {**params, "ids": list(chunk_ids)},
            ).fetchall()
        by_id = {row["chunk_id"]: row for row in rows}
        return [Hit(**by_id[i], score=s) for i, s in zip(chunk_ids, scores) if i in by_id]

    @staticmethod
    def chunk_scope(filters: SearchFilters, principal: Principal) -> tuple[str, dict[str, Any]]:
        """A subquery of the ids of chunks `principal` may read and `filters` admit, with its parameters:
        how another store (the graph's mentions) narrows to them without naming this store's tables."""
        predicate, params = chunk_predicate(filters, principal)
        return f"SELECT id FROM chunks WHERE {predicate}", params

    def lexical_rows(self) -> list[dict[str, Any]]:
        """Every chunk's text and filter columns (id, body, access, tags, domain, author, ts), for BM25's index."""
        with self.db.transaction() as conn:
            return conn.execute(
                "SELECT id, body, access, tags, domain, author, extract(epoch FROM published_at)::float8 AS ts"
                " FROM chunks ORDER BY id"
            ).fetchall()

    def embeddings(self, chunk_ids: Sequence[int]) -> dict[int, np.ndarray]:
        """The stored vectors of `chunk_ids` (missing ids are left out)."""
        with self.db.transaction() as conn:
            rows = conn.execute(
                "SELECT id, embedding::real[] AS embedding FROM chunks WHERE id = ANY(%(ids)s)",
                {"ids": list(chunk_ids)},
            ).fetchall()
        return {row["id"]: np.asarray(row["embedding"], dtype=np.float32) for row in rows}

    def chunk_vectors(self) -> list[dict[str, Any]]:
        """Every chunk's document_id, text and embedding, in id order (the eval's peer system indexes them)."""
        with self.db.transaction() as conn:
            return conn.execute(
                "SELECT document_id, body AS text, embedding::real[] AS embedding FROM chunks ORDER BY id"
            ).fetchall()

    def readable_documents(self, document_ids: Sequence[str], groups: Sequence[str]) -> set[str]:
        """Of `document_ids`, those that exist and a reader with `groups` may read now."""
        if not document_ids:
            return set()
        clause, params = access.sql_predicate(groups)
        with self.db.transaction() as conn:
            rows = conn.execute(
                f"SELECT id FROM documents WHERE id = ANY(%(ids)s) AND {clause}", {**params, "ids": list(document_ids)}
            ).fetchall()
        return {row["id"] for row in rows}

    # Assets (images): their rows; corpus/assets.py adds where each blob opens.

    def assets_of_chunks(self, chunk_ids: Sequence[int]) -> dict[int, dict[str, Any]]:
        """The asset row behind each caption chunk among `chunk_ids`, by chunk id (text chunks are left out)."""
        with self.db.transaction() as conn:
            rows = conn.execute(
                "SELECT c.id AS chunk_id, a.* FROM chunks c JOIN assets a"
                " ON a.document_id = c.document_id AND a.ordinal = c.asset_ordinal WHERE c.id = ANY(%s)",
                (list(chunk_ids),),
            ).fetchall()
        return {row.pop("chunk_id"): row for row in rows}

    def assets_of_document(self, document_id: str) -> list[dict[str, Any]]:
        with self.db.transaction() as conn:
            return conn.execute(
                "SELECT * FROM assets WHERE document_id = %s ORDER BY ordinal", (document_id,)
            ).fetchall()

    @contextmanager
    def blob_references(self) -> Iterator[set[str]]:
        """The blob keys committed rows reference, with the blob lock held exclusively until the block ends:
        no write can commit a new reference meanwhile (writers hold it shared from their puts to commit)."""
        with self.db.transaction() as conn:
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (BLOB_GC_LOCK,))
            yield {row["blob_key"] for row in conn.execute("SELECT DISTINCT blob_key FROM assets")}


def _total_rows(conn: RowConnection) -> int:
    row = one_row(conn.execute("SELECT reltuples::bigint AS n FROM pg_class WHERE oid = 'chunks'::regclass"))
    if row["n"] < 0:  # never analysed
        return int(one_row(conn.execute("SELECT count(*) AS n FROM chunks"))["n"])
    return int(row["n"])


def _estimated_rows(conn: RowConnection, predicate: str, params: dict[str, Any]) -> int:
    row = one_row(conn.execute(f"EXPLAIN (FORMAT JSON) SELECT 1 FROM chunks WHERE {predicate}", params))
    plan = row["QUERY PLAN"]
    if isinstance(plan, str):
        plan = json.loads(plan)
    return int(plan[0]["Plan"]["Plan Rows"])
