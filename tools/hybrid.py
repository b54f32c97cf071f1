"""One call for evidence: dense, BM25 and graph retrievers run concurrently, fuse, rerank, pack."""

import asyncio
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, ParamSpec, Protocol, TypeVar

from langchain_core.embeddings import Embeddings

from quarry.corpus.filters import Principal, SearchFilters
from quarry.tools.bm25 import Bm25Search
from quarry.tools.config import RetrievalConfig
from quarry.tools.dense import DenseSearch
from quarry.tools.fusion import FusedHit, fuse
from quarry.tools.hits import Hit
from quarry.tools.packing import PackedContext, pack
from quarry.tools.rerank import RerankedHit, Reranker

P = ParamSpec("P")
T = TypeVar("T")
Mode = Literal["dense", "bm25", "kg", "hybrid"]
MODES: tuple[Mode, ...] = ("dense", "bm25", "kg", "hybrid")


class GraphRetriever(Protocol):
    def search(
        self, query: str, *, k: int, principal: Principal, filters: SearchFilters | None = None
    ) -> "GraphHits": ...


class GraphHits(Protocol):
    @property
    def hits(self) -> list[Hit]: ...
    @property
    def paths(self) -> Mapping[int, tuple[str, ...]]: ...


@dataclass(frozen=True)
class Retrieval:
    hits: list[FusedHit]
    """Best first: reranked order when reranking ran, fused order otherwise; at most k."""
    rerank_scores: Mapping[int, float] = field(default_factory=dict)
    by_retriever: Mapping[str, list[Hit]] = field(default_factory=dict)
    paths: Mapping[int, tuple[str, ...]] = field(default_factory=dict)
    """Knowledge-graph path that led to a chunk, by chunk id."""
    timings_ms: Mapping[str, float] = field(default_factory=dict)
    packed: PackedContext | None = None


class HybridRetriever:
    def __init__(
        self,
        embedder: Embeddings,
        dense: DenseSearch,
        bm25: Bm25Search,
        config: RetrievalConfig,
        *,
        graph: GraphRetriever | None = None,
        reranker: Reranker | None = None,
    ) -> None:
        self.embedder = embedder
        self.dense = dense
        self.bm25 = bm25
        self.graph = graph
        self.reranker = reranker
        self.config = config

    def retrieve(self, query: str, **options: Any) -> Retrieval:
        """Synchronous form of `aretrieve` (not for use inside a running event loop)."""
        return asyncio.run(self.aretrieve(query, **options))

    async def aretrieve(
        self,
        query: str,
        *,
        principal: Principal,
        filters: SearchFilters | None = None,
        k: int | None = None,
        mode: Mode = "hybrid",
        rerank: bool | None = None,
        token_budget: int | None = None,
        query_vector: Sequence[float] | None = None,
    ) -> Retrieval:
        k = k or self.config.default_k
        timings: dict[str, float] = {}
        if query_vector is None and mode in ("dense", "hybrid"):
            query_vector = await _timed(timings, "embed", self.embedder.embed_query, query)
        wanted = self.config.fusion.candidates_per_retriever if mode == "hybrid" else k
        tasks: dict[str, Callable[[], list[Hit]]] = {}
        if mode in ("dense", "hybrid"):
            vector = query_vector
            assert vector is not None  # embedded above when not given
            tasks["dense"] = lambda: self.dense.search(vector, k=wanted, principal=principal, filters=filters).hits
        if mode in ("bm25", "hybrid"):
            tasks["bm25"] = lambda: self.bm25.search(query, k=wanted, principal=principal, filters=filters)
        graph_result: GraphHits | None = None
        graph = self.graph
        if mode in ("kg", "hybrid") and graph is not None:

            def run_graph() -> list[Hit]:
                nonlocal graph_result
                result = graph.search(query, k=wanted, principal=principal, filters=filters)
                graph_result = result
                return result.hits

            tasks["kg"] = run_graph
        results = await asyncio.gather(*(_timed(timings, name, task) for name, task in tasks.items()))
        by_retriever = dict(zip(tasks, results))
        started = time.perf_counter()
        fused = fuse(by_retriever, self.config.fusion)
        timings["fuse"] = (time.perf_counter() - started) * 1000
        use_rerank = self.config.rerank.enabled if rerank is None else rerank
        rerank_scores: dict[int, float] = {}
        if use_rerank and self.reranker is not None and fused and query_vector is not None:
            candidates = fused[: self.config.rerank.candidates]
            reranked: list[RerankedHit] = await _timed(
                timings, "rerank", self.reranker.rerank, query, query_vector, candidates, k
            )
            final = [r.fused for r in reranked]
            rerank_scores = {r.fused.hit.chunk_id: r.score for r in reranked}
        else:
            final = fused[:k]
        packed = pack([f.hit for f in final], token_budget) if token_budget is not None else None
        paths = dict(graph_result.paths) if graph_result is not None else {}
        return Retrieval(final, rerank_scores, by_retriever, paths, timings, packed)


async def _timed(timings: dict[str, float], name: str, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    started = time.perf_counter()
    try:
        return await asyncio.to_thread(fn, *args, **kwargs)
    finally:
        timings[name] = (time.perf_counter() - started) * 1000
