"""Cheap reranking: cut ~50 fused candidates to the best few before any premium model sees them.

The offline reranker blends three signals, each in [0, 1]: the cosine between the query and the
chunk's stored embedding (every candidate gets one, whichever retriever found it), the share of
the query's content words the chunk contains, and the candidate's fused RRF score relative to
the best. Stored vectors are read in one query, so reranking costs no model call. A Claude
(cheap tier) scorer can implement the same protocol.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from quarry.corpus.db import Database
from quarry.corpus.store import DocumentStore
from quarry.tools.config import RerankConfig
from quarry.tools.fusion import FusedHit
from quarry.tools.hits import Hit
from quarry.tools.text import tokenize


@dataclass(frozen=True)
class RerankedHit:
    fused: FusedHit
    score: float


class Reranker(Protocol):
    def rerank(
        self, query: str, query_vector: Sequence[float], candidates: Sequence[FusedHit], keep: int
    ) -> list[RerankedHit]: ...


class OfflineReranker:
    def __init__(self, db: Database, config: RerankConfig) -> None:
        self.db = db
        self.store = DocumentStore(db)
        self.config = config

    def rerank(
        self, query: str, query_vector: Sequence[float], candidates: Sequence[FusedHit], keep: int
    ) -> list[RerankedHit]:
        if not candidates:
            return []
        vectors = self.store.embeddings([c.hit.chunk_id for c in candidates])
        q = np.asarray(query_vector, dtype=np.float32)
        cosine = np.array(
            [float(vectors[c.hit.chunk_id] @ q) if c.hit.chunk_id in vectors else 0.0 for c in candidates]
        )
        terms = set(tokenize(query))
        overlap = np.array([_coverage(terms, c.hit) for c in candidates])
        prior = np.array([c.score for c in candidates])
        prior = prior / prior.max() if prior.max() > 0 else prior
        blended = (
            self.config.cosine_weight * np.clip(cosine, 0, 1)
            + self.config.overlap_weight * overlap
            + self.config.prior_weight * prior
        )
        order = sorted(range(len(candidates)), key=lambda i: (-blended[i], i))
        return [RerankedHit(candidates[i], float(blended[i])) for i in order[:keep]]


def _coverage(terms: set[str], hit: Hit) -> float:
    if not terms:
        return 0.0
    present = set(tokenize(f"{hit.title} {hit.text}"))
    return len(terms & present) / len(terms)
