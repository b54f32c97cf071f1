"""Ranking metrics over document ids (BEIR conventions: linear graded gain for nDCG)."""

import math
from collections.abc import Mapping, Sequence


def dedupe(ranked: Sequence[str]) -> list[str]:
    """Chunk hits map to documents; keep each document's first (best) position."""
    seen: set[str] = set()
    kept: list[str] = []
    for document in ranked:
        if document not in seen:
            seen.add(document)
            kept.append(document)
    return kept


def recall_at(ranked: Sequence[str], relevant: Mapping[str, int], k: int) -> float:
    if not relevant:
        return 0.0
    return len(set(ranked[:k]) & set(relevant)) / len(relevant)


def all_found_at(ranked: Sequence[str], relevant: Mapping[str, int], k: int) -> float:
    """1.0 when every gold document is in the top k (multi-hop: both supporting paragraphs)."""
    return float(bool(relevant) and set(relevant) <= set(ranked[:k]))


def ndcg_at(ranked: Sequence[str], relevant: Mapping[str, int], k: int) -> float:
    dcg = sum(relevant.get(doc, 0) / math.log2(i + 2) for i, doc in enumerate(ranked[:k]))
    ideal = sorted(relevant.values(), reverse=True)[:k]
    idcg = sum(gain / math.log2(i + 2) for i, gain in enumerate(ideal))
    return dcg / idcg if idcg else 0.0


def reciprocal_rank(ranked: Sequence[str], relevant: Mapping[str, int]) -> float:
    for i, doc in enumerate(ranked):
        if doc in relevant:
            return 1.0 / (i + 1)
    return 0.0


def percentile(values: Sequence[float], q: float) -> float:
    """Linear-interpolated percentile (q in 0..100); 0.0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def mean_ci95(values: Sequence[float]) -> tuple[float, float]:
    """Mean and the half-width of a normal-approximation 95% interval (small sets: report both)."""
    if not values:
        return 0.0, 0.0
    mean = sum(values) / len(values)
    if len(values) < 2:
        return mean, 0.0
    variance = sum((v - mean) ** 2 for v in values) / (len(values) - 1)
    return mean, 1.96 * math.sqrt(variance / len(values))
