"""The semantic cache: don't pay twice for the same question.

Keyed by the embedding of the user's question alone (never the assembled prompt) and scoped by
the reader's access groups and the filters (hashed together: an answer built from documents one
reader may see is never served to another reader) and by the corpus version (an answer built
before the corpus changed is not served after it, unless `stale_ok`). A hit needs cosine ≥
threshold *and* the guard's agreement (tools/cache_guard.py) *and*, checked on every hit, that the
asking reader may read every document the answer cites or drew on now (with `stale_ok` an answer
built while a document was public must not outlive its restriction). Only complete answers are stored.
Entries expire after `ttl_seconds`; beyond `max_entries` the least recently used go.

Lookups scan the scope's entries exactly (filtered by scope and version first): a scope holds at
most `max_entries` rows, and exact search never misses a near neighbour the way a post-filtered
HNSW scan can. This module is the cache store: it holds all of cache_entries' SQL. What hits
saved is the ledger's to say (runs.saved_usd; graph/budget/ledger.py).
"""

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np
from pydantic import ValidationError

from quarry.corpus import access
from quarry.corpus.db import Database, RowConnection, one_row
from quarry.corpus.filters import Principal, SearchFilters
from quarry.corpus.store import DocumentStore
from quarry.records import AnswerRecord
from quarry.tools.cache_guard import Verdict, same_question
from quarry.tools.config import CacheConfig

TABLES = ("cache_entries",)


@dataclass(frozen=True, kw_only=True, slots=True)
class CacheHit:
    entry_id: int
    question: str
    """The cached question the answer was built for."""
    similarity: float
    answer: AnswerRecord
    """The original answer (`Answer.load` makes it an Answer again)."""
    run_id: str | None
    cost_usd: float
    """What the original run cost: what this hit saved."""


@dataclass(frozen=True)
class Lookup:
    hit: CacheHit | None
    best_similarity: float
    """The nearest cached question's similarity (0 when the scope holds none)."""
    refused: str
    """Which guard rule refused the nearest close-enough question, or "": a kind of difference, never a
    word of the cached question (another principal's)."""


@dataclass(frozen=True)
class CacheStats:
    entries: int
    current: int
    """Entries built on the current corpus version."""
    expired: int
    hits: int
    oldest: datetime | None
    newest: datetime | None


@dataclass(frozen=True, kw_only=True, slots=True)
class NewEntry:
    question: str
    vector: Sequence[float]
    principal: Principal
    filters: SearchFilters
    corpus_version: int
    answer: AnswerRecord
    run_id: str
    cost_usd: float
    tokens: int


def scope_of(principal: Principal, filters: SearchFilters) -> str:
    """The key readers share a cache under: same groups (as a set) and same filters. Stricter than the
    reader rule (overlap): an answer may draw on any document its groups can read, so only a reader
    with exactly those groups can be served it without learning something they could not search for."""
    key = json.dumps(
        {"groups": access.group_set(principal.groups), "filters": filters.model_dump(mode="json")}, sort_keys=True
    )
    return hashlib.sha256(key.encode()).hexdigest()


class SemanticCache:
    def __init__(self, db: Database, config: CacheConfig) -> None:
        self.db = db
        self.config = config
        self._documents = DocumentStore(db)

    def lookup(
        self,
        question: str,
        vector: Sequence[float],
        principal: Principal,
        filters: SearchFilters,
        corpus_version: int,
    ) -> Lookup:
        config = self.config
        with self.db.transaction() as conn:
            rows = conn.execute(
                "SELECT id, question, answer, run_id, cost_usd, 1 - (embedding <=> %(q)s) AS similarity"
                " FROM cache_entries WHERE scope = %(scope)s AND (corpus_version = %(version)s OR %(stale_ok)s)"
                " AND created_at > now() - make_interval(secs => %(ttl)s)"
                " ORDER BY embedding <=> %(q)s, id LIMIT %(n)s",
                {
                    "q": np.asarray(vector, dtype=np.float32),
                    "scope": scope_of(principal, filters),
                    "version": corpus_version,
                    "stale_ok": config.stale_ok,
                    "ttl": config.ttl_seconds,
                    "n": config.candidates,
                },
            ).fetchall()
            best = float(rows[0]["similarity"]) if rows else 0.0
            refused = ""
            for row in rows:
                if row["similarity"] < config.threshold:
                    break
                verdict = self._agree(row["question"], question)
                if not verdict.agree:
                    refused = refused or verdict.rule
                    continue
                try:
                    answer = AnswerRecord.model_validate(row["answer"])
                except ValidationError:  # stored by a version whose answer this one cannot read
                    continue
                if not self._still_readable(answer, principal):
                    continue  # a cited document was deleted or restricted since: as if never cached
                conn.execute(
                    "UPDATE cache_entries SET hits = hits + 1, last_used_at = now() WHERE id = %s", (row["id"],)
                )
                hit = CacheHit(
                    entry_id=row["id"],
                    question=row["question"],
                    similarity=float(row["similarity"]),
                    answer=answer,
                    run_id=str(row["run_id"]) if row["run_id"] else None,
                    cost_usd=row["cost_usd"],
                )
                return Lookup(hit, best, "")
        return Lookup(None, best, refused)

    def store(self, entry: NewEntry) -> int:
        """Add a complete answer; expired entries go, and the least recently used beyond max_entries."""
        with self.db.transaction() as conn:
            row = one_row(
                conn.execute(
                    "INSERT INTO cache_entries (question, embedding, scope, access_groups, filters, corpus_version,"
                    " answer, run_id, cost_usd, tokens) VALUES (%s, %s, %s, %s, %s::jsonb, %s, %s::jsonb, %s, %s, %s)"
                    " RETURNING id",
                    (
                        entry.question,
                        np.asarray(entry.vector, dtype=np.float32),
                        scope_of(entry.principal, entry.filters),
                        access.group_set(entry.principal.groups),
                        json.dumps(entry.filters.model_dump(mode="json")),
                        entry.corpus_version,
                        json.dumps(entry.answer.dump()),
                        entry.run_id,
                        entry.cost_usd,
                        entry.tokens,
                    ),
                )
            )
            self._evict(conn)
        return int(row["id"])

    def stats(self, corpus_version: int) -> CacheStats:
        with self.db.transaction() as conn:
            entries = one_row(
                conn.execute(
                    "SELECT count(*) AS entries, count(*) FILTER (WHERE corpus_version = %(v)s) AS current,"
                    " count(*) FILTER (WHERE created_at <= now() - make_interval(secs => %(ttl)s)) AS expired,"
                    " coalesce(sum(hits), 0) AS hits, min(created_at) AS oldest, max(created_at) AS newest"
                    " FROM cache_entries",
                    {"v": corpus_version, "ttl": self.config.ttl_seconds},
                )
            )
        return CacheStats(
            entries["entries"],
            entries["current"],
            entries["expired"],
            entries["hits"],
            entries["oldest"],
            entries["newest"],
        )

    def clear(self, *, corpus_version: int | None = None) -> int:
        """Delete every entry, or with `corpus_version` only those not built on it or expired; returns how many."""
        with self.db.transaction() as conn:
            if corpus_version is None:
                return conn.execute("DELETE FROM cache_entries").rowcount
            return conn.execute(
                "DELETE FROM cache_entries WHERE corpus_version <> %s OR created_at <= now() - make_interval(secs => %s)",
                (corpus_version, self.config.ttl_seconds),
            ).rowcount

    def forget_documents(self, document_ids: Sequence[str], sources: Sequence[str] = ()) -> int:
        """Delete every entry whose answer cites one of these (deleted) documents or drew on one of these
        sources as evidence; returns how many."""
        if not document_ids and not sources:
            return 0
        with self.db.transaction() as conn:
            return conn.execute(
                "DELETE FROM cache_entries WHERE EXISTS (SELECT 1 FROM jsonb_array_elements("
                "CASE jsonb_typeof(answer->'citations') WHEN 'array' THEN answer->'citations' ELSE '[]' END) c"
                " WHERE c->>'document_id' = ANY(%(ids)s::text[]))"
                " OR (jsonb_typeof(answer->'evidence_sources') = 'array'"
                " AND answer->'evidence_sources' ?| %(sources)s::text[])",
                {"ids": list(document_ids), "sources": list(sources)},
            ).rowcount

    def _agree(self, cached: str, asked: str) -> Verdict:
        if not self.config.guard:
            return Verdict(agree=True)
        return same_question(cached, asked)

    def _still_readable(self, answer: AnswerRecord, principal: Principal) -> bool:
        """Whether `principal` may read, now, every document the answer cites or kept as evidence."""
        used = {c.document_id for c in answer.citations} | set(answer.evidence_sources)
        return used <= self._documents.readable_documents(sorted(used), principal.groups)

    def _evict(self, conn: RowConnection) -> None:
        conn.execute(
            "DELETE FROM cache_entries WHERE created_at <= now() - make_interval(secs => %s)",
            (self.config.ttl_seconds,),
        )
        conn.execute(
            "DELETE FROM cache_entries WHERE id IN (SELECT id FROM cache_entries ORDER BY last_used_at DESC, id DESC"
            " OFFSET %s)",
            (self.config.max_entries,),
        )
