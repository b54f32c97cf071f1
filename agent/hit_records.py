"""A retrieved passage as JSON, as `quarry search --json` prints it and GET /v1/search returns it."""

from typing import Any

from quarry.tools.fusion import FusedHit
from quarry.tools.hybrid import Retrieval


def hit_score(fused: FusedHit, result: Retrieval) -> float:
    """The score that ordered the list: rerank score when reranked, else fused (or the single retriever's)."""
    if fused.hit.chunk_id in result.rerank_scores:
        return result.rerank_scores[fused.hit.chunk_id]
    return fused.score if len(result.by_retriever) > 1 else fused.hit.score


def hit_record(fused: FusedHit, result: Retrieval) -> dict[str, Any]:
    hit = fused.hit
    return {
        "chunk_id": hit.chunk_id,
        "document_id": hit.document_id,
        "ordinal": hit.ordinal,
        "title": hit.title,
        "source": hit.source,
        "author": hit.author,
        "domain": hit.domain,
        "published_at": hit.published_at.isoformat(),
        "start_char": hit.start_char,
        "end_char": hit.end_char,
        "text": hit.text,
        "score": round(hit_score(fused, result), 6),
        "retrievers": {name: r.rank for name, r in fused.ranks.items()},
        "retriever_scores": {name: round(r.score, 6) for name, r in fused.ranks.items()},
        **({"graph_path": list(result.paths[hit.chunk_id])} if hit.chunk_id in result.paths else {}),
    }
