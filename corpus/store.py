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
from quarry.errors import IdClaimed

TABLES = ("corpus_state", "documents", "chunks", "assets")


class WriteOutcome(Enum):
    INSERTED = "inserted"
    REPLACED = "replaced"
    UNCHANGED = "unchanged"


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


@dataclass(frozen=True, kw_only=True, slots=True)
class DocumentRef:
    """Which document a lifecycle operation (rm, prune) names: enough to tell the user what went."""

    id: str
    origin: str
    """The file it was loaded from (or its declared source, for documents built in code)."""
    source: str
    title: str


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
    page_first: int | None = None
    page_last: int | None = None
    section: str | None = None


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
                    domain, author, published_at, access, asset_ordinal, page_first, page_last, section)
VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
"""
_INSERT_ASSET = """
INSERT INTO assets (document_id, ordinal, name, blob_key, mime, bytes, width, height, caption)
VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)
"""


def _hit_columns(chunk: str) -> str:
    """The SELECT list that builds a Hit from `chunk` (an alias of chunks) joined to documents as d; score apart."""
    return (
        f"{chunk}.id AS chunk_id, {chunk}.document_id, {chunk}.ordinal, d.title, d.source, d.author, d.domain,"
        f" d.published_at, {chunk}.start_char, {chunk}.end_char, {chunk}.body AS text,"
        f" {chunk}.page_first, {chunk}.page_last, {chunk}.section"
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
    SELECT id, document_id, ordinal, body, start_char, end_char, page_first, page_last, section, embedding
    FROM chunks WHERE {predicate}
), hits AS (
    SELECT id, document_id, ordinal, body, start_char, end_char, page_first, page_last, section,
           embedding <=> %(q)s AS distance
    FROM candidates ORDER BY embedding <=> %(q)s, id LIMIT %(k)s
)
"""
    + _SELECT_NEAREST
)

_NEAREST_INDEXED = (
    """
WITH hits AS (
    SELECT id, document_id, ordinal, body, start_char, end_char, page_first, page_last, section,
           embedding <=> %(q)s AS distance
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
    if filters.tags:  # tags live on the document only (a copy per chunk multiplied them by the chunk count)
        clauses.append(f"{col}document_id IN (SELECT dt.id FROM documents dt WHERE dt.tags && %(f_tags)s::text[])")
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


@dataclass(frozen=True)
class CorpusStamp:
    """Which corpus, at which version: what an in-process or on-disk index is keyed on."""

    identity: str
    """The database identity: cluster system identifier (when this role may read it), database OID and
    name, and the random id migration 0013 stores in the schema."""
    version: int


def corpus_stamp(db: Database) -> CorpusStamp:
    """The database identity and corpus version, read in one statement."""
    with db.transaction() as conn:
        row = one_row(
            conn.execute(
                "SELECT version, instance_id::text AS instance,"
                " CASE WHEN has_function_privilege('pg_control_system()', 'EXECUTE')"
                " THEN (SELECT system_identifier::text FROM pg_control_system()) ELSE '' END AS cluster,"
                " (SELECT oid::text FROM pg_database WHERE datname = current_database()) AS oid,"
                " current_database() AS datname FROM corpus_state"
            )
        )
    identity = json.dumps([row["cluster"], row["oid"], row["datname"], db.schema, row["instance"]])
    return CorpusStamp(identity=identity, version=int(row["version"]))


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
        force: bool = False,
    ) -> WriteOutcome:
        """Insert or replace `document`, its chunks, assets and graph rows in one transaction, under the
        document's advisory lock; concurrent writers of one id serialise and the last one wins. A
        re-ingest from the document's own origin is authoritative: its access, dates and text replace
        the stored ones whatever their publication dates. An id stored from another origin is not
        taken (IdClaimed) unless `force`. The assets' blobs are written by `put_blobs`, first, while
        this transaction holds the blob lock shared: gc cannot delete them between the put and the commit."""
        if len(chunks) != len(embeddings):
            raise ValueError(f"{len(chunks)} chunks but {len(embeddings)} embeddings for '{document.label}'")
        meta = document.metadata
        with self.db.transaction() as conn:
            conn.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", (document.id,))
            row = conn.execute(
                "SELECT content_hash, origin FROM documents WHERE id = %s FOR UPDATE", (document.id,)
            ).fetchone()
            if row and row["origin"] and row["origin"] != document.owner and not force:  # '' : unknown, adopted
                raise IdClaimed(document.label, document.id, row["origin"])
            if row and row["content_hash"] == document.content_hash and row["origin"] == document.owner:
                return WriteOutcome.UNCHANGED
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
                document.owner,
            )
            if row:
                conn.execute(
                    "UPDATE documents SET source=%s, title=%s, author=%s, domain=%s, published_at=%s,"
                    " access=%s, tags=%s, language=%s, body=%s, content_hash=%s, origin=%s,"
                    " version = version + 1, updated_at = now() WHERE id = %s",
                    (*values, document.id),
                )
                conn.execute("DELETE FROM chunks WHERE document_id = %s", (document.id,))
                conn.execute("DELETE FROM assets WHERE document_id = %s", (document.id,))
            else:
                conn.execute(
                    "INSERT INTO documents (source, title, author, domain, published_at, access, tags,"
                    " language, body, content_hash, origin, id) VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s)",
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
                            c.asset_ordinal,
                            c.page_first,
                            c.page_last,
                            c.section,
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
        return bool(self.delete_documents([document_id]))

    def delete_documents(self, document_ids: Sequence[str]) -> list[DocumentRef]:
        """Delete these documents in one transaction: their chunks, assets and graph evidence (mentions,
        relations) go by cascade, and one corpus_version bump makes every index built on the old corpus
        (BM25, the graph, cached answers) stale. Their blobs stay until gc finds them unreferenced.
        Returns what was deleted (ids not stored are left out)."""
        ids = sorted(set(document_ids))  # sorted: deleters and writers take the advisory locks in one order
        if not ids:
            return []
        with self.db.transaction() as conn:
            for document_id in ids:
                conn.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", (document_id,))
            rows = conn.execute(
                "DELETE FROM documents WHERE id = ANY(%s) RETURNING id, origin, source, title", (ids,)
            ).fetchall()
            if rows:
                conn.execute("UPDATE corpus_state SET version = version + 1, updated_at = now()")
        return sorted((DocumentRef(**row) for row in rows), key=lambda ref: ref.id)

    def owner_of(self, document_id: str) -> tuple[str, str] | None:
        """(content hash, origin) of the stored document with this id, or None."""
        with self.db.transaction() as conn:
            row = conn.execute("SELECT content_hash, origin FROM documents WHERE id = %s", (document_id,)).fetchone()
        return (row["content_hash"], row["origin"]) if row else None

    def documents_from(self, roots: Sequence[str]) -> list[DocumentRef]:
        """Documents whose origin is one of `roots` (absolute paths) or lies under one of them (folders)."""
        if not roots:
            return []
        with self.db.transaction() as conn:
            rows = conn.execute(
                "SELECT id, origin, source, title FROM documents d WHERE EXISTS (SELECT 1 FROM unnest(%s::text[]) r"
                " WHERE d.origin = r OR starts_with(d.origin, rtrim(r, '/') || '/')) ORDER BY id",
                (list(roots),),
            ).fetchall()
        return [DocumentRef(**row) for row in rows]

    def documents_at(self, origins: Sequence[str]) -> list[DocumentRef]:
        """Documents loaded from exactly these origins (files)."""
        if not origins:
            return []
        with self.db.transaction() as conn:
            rows = conn.execute(
                "SELECT id, origin, source, title FROM documents WHERE origin = ANY(%s::text[]) ORDER BY id",
                (list(origins),),
            ).fetchall()
        return [DocumentRef(**row) for row in rows]

    def matching(
        self, *, ids: Sequence[str] = (), sources: Sequence[str] = (), filters: SearchFilters | None = None
    ) -> list[DocumentRef]:
        """The documents every given selector admits (the operator's view, no access rule): these ids;
        an origin equal to or under one of `sources`, or a declared source equal to one; the filters."""
        clauses: list[str] = ["true"]
        params: dict[str, Any] = {}
        if ids:
            clauses.append("id = ANY(%(ids)s::text[])")
            params["ids"] = list(ids)
        if sources:
            clauses.append(
                "EXISTS (SELECT 1 FROM unnest(%(sources)s::text[]) r WHERE origin = r OR source = r"
                " OR starts_with(origin, rtrim(r, '/') || '/'))"
            )
            params["sources"] = list(sources)
        if filters is not None:
            for clause, key, value in (
                ("domain = ANY(%(domains)s::text[])", "domains", filters.domains),
                ("author = ANY(%(authors)s::text[])", "authors", filters.authors),
                ("tags && %(tags)s::text[]", "tags", filters.tags),
            ):
                if value:
                    clauses.append(clause)
                    params[key] = list(value)
            if filters.published_after:
                clauses.append("published_at >= %(after)s")
                params["after"] = filters.published_after
            if filters.published_before:
                clauses.append("published_at < %(before)s")
                params["before"] = filters.published_before
        with self.db.transaction() as conn:
            rows = conn.execute(
                f"SELECT id, origin, source, title FROM documents WHERE {' AND '.join(clauses)} ORDER BY id", params
            ).fetchall()
        return [DocumentRef(**row) for row in rows]

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
            conn.execute("ANALYZE documents")  # a tag filter's estimate comes from the documents' tags

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
                "SELECT c.id, c.body, c.access, d.tags, c.domain, c.author,"
                " extract(epoch FROM c.published_at)::float8 AS ts"
                " FROM chunks c JOIN documents d ON d.id = c.document_id ORDER BY c.id"
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
