"""Weighted reciprocal-rank fusion: score(chunk) = Σ_r weight_r / (k + rank_r), rank from 1.

Each fused hit remembers, per retriever that found it, its rank and raw score (shown in traces
and in `quarry search --json`). Fusion does not depend on the order retrievers are given in:
ties break by the best single rank, then by chunk id. A retriever with weight 0 adds nothing to
the score, but its ranks are still recorded.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType

from quarry.tools.config import FusionConfig
from quarry.tools.hits import Hit

# Which retriever's copy of a hit is kept when several found the same chunk (their scores differ).
RETRIEVER_ORDER = ("dense", "bm25", "kg")


@dataclass(frozen=True)
class RetrieverRank:
    rank: int
    score: float


@dataclass(frozen=True)
class FusedHit:
    hit: Hit
    score: float
    ranks: Mapping[str, RetrieverRank]

    @property
    def best_rank(self) -> int:
        return min(r.rank for r in self.ranks.values())


def weights(config: FusionConfig) -> dict[str, float]:
    return {"dense": config.dense_weight, "bm25": config.bm25_weight, "kg": config.kg_weight}


def fuse(ranked: Mapping[str, Sequence[Hit]], config: FusionConfig, *, limit: int | None = None) -> list[FusedHit]:
    weight_of = weights(config)
    found: dict[int, dict[str, RetrieverRank]] = {}
    copies: dict[int, dict[str, Hit]] = {}
    for name, hits in ranked.items():
        for rank, hit in enumerate(hits, start=1):
            ranks = found.setdefault(hit.chunk_id, {})
            if name not in ranks:  # a retriever listing a chunk twice counts its best rank only
                ranks[name] = RetrieverRank(rank, hit.score)
                copies.setdefault(hit.chunk_id, {})[name] = hit
    fused = []
    for chunk_id, ranks in found.items():
        # Sum in a fixed order: float addition is not associative, and the result must not depend on input order.
        score = sum(weight_of.get(name, 1.0) / (config.k + r.rank) for name, r in sorted(ranks.items()))
        keeper = _keeper(copies[chunk_id])
        fused.append(FusedHit(keeper, score, MappingProxyType(dict(sorted(ranks.items())))))
    fused.sort(key=lambda f: (-f.score, f.best_rank, f.hit.chunk_id))
    return fused[:limit] if limit is not None else fused


def _keeper(copies: dict[str, Hit]) -> Hit:
    for name in RETRIEVER_ORDER:
        if name in copies:
            return copies[name]
    return copies[min(copies)]
