"""Filtered top-k cosine search over chunk embeddings (pgvector), filters in the same statement.

pgvector 0.6 has no iterative index scans: HNSW returns its ef_search nearest candidates and the
filter runs afterwards, so a selective filter silently yields fewer than k rows. We estimate the
filter's selectivity from planner statistics and either search exactly (few rows pass) or widen
ef_search to k / selectivity × oversample, falling back to exact past pgvector's 1000 cap.
"""

import json
import math
from dataclasses import dataclass
from typing import Literal

import numpy as np

from quarry.corpus.db import Database
from quarry.corpus.filters import Principal, SearchFilters, chunk_predicate
from quarry.tools.config import DenseConfig
from quarry.tools.hits import Hit, hit_columns

Strategy = Literal["exact", "hnsw"]


@dataclass(frozen=True)
class SearchPlan:
    strategy: Strategy
    estimated_rows: int
    total_rows: int
    ef_search: int | None


@dataclass(frozen=True)
class DenseResult:
    hits: list[Hit]
    plan: SearchPlan


_SELECT_HITS = f"""
SELECT {hit_columns("h")}, 1 - h.distance AS score
FROM hits h JOIN documents d ON d.id = h.document_id
ORDER BY h.distance, h.id
"""

# MATERIALIZED keeps the planner from pushing the ORDER BY into the HNSW index: exact by construction.
_EXACT = (
    """
WITH candidates AS MATERIALIZED (
    SELECT id, document_id, ordinal, body, start_char, end_char, embedding FROM chunks WHERE {predicate}
), hits AS (
    SELECT id, document_id, ordinal, body, start_char, end_char, embedding <=> %(q)s AS distance
    FROM candidates ORDER BY embedding <=> %(q)s, id LIMIT %(k)s
)
"""
    + _SELECT_HITS
)

_INDEXED = (
    """
WITH hits AS (
    SELECT id, document_id, ordinal, body, start_char, end_char, embedding <=> %(q)s AS distance
    FROM chunks WHERE {predicate} ORDER BY embedding <=> %(q)s LIMIT %(k)s
)
"""
    + _SELECT_HITS
)


class DenseSearch:
    def __init__(self, db: Database, config: DenseConfig) -> None:
        self.db = db
        self.config = config

    def search(
        self,
        query_vector: np.ndarray | list[float],
        *,
        k: int,
        principal: Principal,
        filters: SearchFilters | None = None,
        strategy: Strategy | None = None,
    ) -> DenseResult:
        """Top-k chunks by cosine similarity that `principal` may read and `filters` admit.

        `strategy` forces a plan (benchmarks compare them); by default it is chosen per query.
        """
        predicate, params = chunk_predicate(filters or SearchFilters(), principal)
        vector = np.asarray(query_vector, dtype=np.float32)
        plan = None
        if self.db.config.row_security:
            # Estimated under the reader role, the policy's access test would be counted on top of the
            # predicate's: a 20% filter would look like 4%, and an index search like an exact one.
            with self.db.transaction() as conn:
                plan = self._plan(conn, predicate, params, k, strategy)
        with self.db.reading(principal.groups) as conn:
            plan = plan or self._plan(conn, predicate, params, k, strategy)
            if plan.ef_search is not None:
                conn.execute(f"SET LOCAL hnsw.ef_search = {int(plan.ef_search)}")
            sql = (_EXACT if plan.strategy == "exact" else _INDEXED).format(predicate=predicate)
            rows = conn.execute(sql, {**params, "q": vector, "k": k}).fetchall()
        return DenseResult([Hit(**row) for row in rows], plan)

    def _plan(self, conn, predicate: str, params: dict, k: int, forced: Strategy | None) -> SearchPlan:
        total = _total_rows(conn)
        estimated = _estimated_rows(conn, predicate, params)
        if forced == "exact" or (forced is None and estimated <= self.config.exact_scan_max_rows):
            return SearchPlan("exact", estimated, total, None)
        selectivity = max(estimated, 1) / max(total, 1)
        wanted = math.ceil(k * self.config.oversample / min(selectivity, 1.0))
        if forced is None and wanted > self.config.ef_search_max:
            return SearchPlan("exact", estimated, total, None)
        ef = min(max(wanted, self.config.ef_search_min, k), self.config.ef_search_max)
        return SearchPlan("hnsw", estimated, total, ef)


def _total_rows(conn) -> int:
    row = conn.execute("SELECT reltuples::bigint AS n FROM pg_class WHERE oid = 'chunks'::regclass").fetchone()
    if row["n"] < 0:  # never analysed
        return conn.execute("SELECT count(*) AS n FROM chunks").fetchone()["n"]
    return row["n"]


def _estimated_rows(conn, predicate: str, params: dict) -> int:
    row = conn.execute(f"EXPLAIN (FORMAT JSON) SELECT 1 FROM chunks WHERE {predicate}", params).fetchone()
    plan = row["QUERY PLAN"]
    if isinstance(plan, str):
        plan = json.loads(plan)
    return int(plan[0]["Plan"]["Plan Rows"])
