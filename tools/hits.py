"""What a retriever returns: a chunk with the provenance a citation needs."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from quarry.corpus.db import Database
from quarry.corpus.filters import Principal, SearchFilters, chunk_predicate


@dataclass(frozen=True)
class Hit:
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


def hit_columns(chunk: str) -> str:
    """The SELECT list that builds a Hit from `chunk` (an alias of chunks) joined to documents as d; score apart."""
    return (
        f"{chunk}.id AS chunk_id, {chunk}.document_id, {chunk}.ordinal, d.title, d.source, d.author, d.domain,"
        f" d.published_at, {chunk}.start_char, {chunk}.end_char, {chunk}.body AS text"
    )


def fetch_hits(
    db: Database, chunk_ids: Sequence[int], scores: Sequence[float], filters: SearchFilters, principal: Principal
) -> list[Hit]:
    """Hydrate ranked chunk ids into Hits in the given order, re-applying the access/filter predicate in SQL
    (defence in depth for retrievers that rank outside PostgreSQL)."""
    if not chunk_ids:
        return []
    predicate, params = chunk_predicate(filters, principal, alias="c")
    with db.reading(principal.groups) as conn:
        rows = conn.execute(
            f"SELECT {hit_columns('c')}"
            f" FROM chunks c JOIN documents d ON d.id = c.document_id WHERE c.id = ANY(%(ids)s) AND {predicate}",
            {**params, "ids": list(chunk_ids)},
        ).fetchall()
    by_id = {row["chunk_id"]: row for row in rows}
    return [Hit(**by_id[i], score=s) for i, s in zip(chunk_ids, scores) if i in by_id]
