"""Filtered top-k cosine search over chunk embeddings (pgvector), filters in the same statement.

pgvector 0.6 has no iterative index scans: HNSW returns its ef_search nearest candidates and the
filter runs afterwards, so a selective filter silently yields fewer than k rows. We estimate the
filter's selectivity from planner statistics and either search exactly (few rows pass) or widen
ef_search to k / selectivity × oversample, falling back to exact past pgvector's 1000 cap. The
choice is made here; the statements (and the estimates they need) are the documents store's.
"""

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from quarry.corpus.db import Database
from quarry.corpus.filters import Principal, SearchFilters
from quarry.corpus.store import DocumentStore
from quarry.tools.config import DenseConfig
from quarry.tools.hits import Hit

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


class DenseSearch:
    def __init__(self, db: Database, config: DenseConfig) -> None:
        self.db = db
        self.store = DocumentStore(db)
        self.config = config

    def search(
        self,
        query_vector: npt.NDArray[np.floating[Any]] | Sequence[float],
        *,
        k: int,
        principal: Principal,
        filters: SearchFilters | None = None,
        strategy: Strategy | None = None,
    ) -> DenseResult:
        """Top-k chunks by cosine similarity that `principal` may read and `filters` admit.

        `strategy` forces a plan (benchmarks compare them); by default it is chosen per query.
        """
        hits, plan = self.store.nearest(
            np.asarray(query_vector, dtype=np.float32),
            k=k,
            principal=principal,
            filters=filters or SearchFilters(),
            choose=lambda estimated, total: self._plan(estimated, total, k, strategy),
        )
        return DenseResult(hits, plan)

    def _plan(self, estimated: int, total: int, k: int, forced: Strategy | None) -> SearchPlan:
        if forced == "exact" or (forced is None and estimated <= self.config.exact_scan_max_rows):
            return SearchPlan("exact", estimated, total, None)
        selectivity = max(estimated, 1) / max(total, 1)
        wanted = math.ceil(k * self.config.oversample / min(selectivity, 1.0))
        if forced is None and wanted > self.config.ef_search_max:
            return SearchPlan("exact", estimated, total, None)
        ef = min(max(wanted, self.config.ef_search_min, k), self.config.ef_search_max)
        return SearchPlan("hnsw", estimated, total, ef)
