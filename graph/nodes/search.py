"""search: one sub-query through hybrid retrieval (dense ∥ BM25 ∥ graph, filtered, fused).

Runs as one parallel branch per sub-query (LangGraph `Send`); every branch draws on the same
run budget through the guard. Reranking waits for all branches (the next node).
"""

import asyncio
import time
from typing import Any

from langgraph.runtime import Runtime

from quarry.corpus.tokens import count_tokens
from quarry.errors import DatabaseUnavailable
from quarry.graph.budget.ledger import CallRecord
from quarry.graph.context import RunContext
from quarry.graph.state import SearchResult, SearchTask
from quarry.graph.trace import SpanHit, add_model_ms, add_retrieval_ms, note, note_hits, note_inputs
from quarry.tools.fusion import FusedHit
from quarry.tools.hybrid import Retrieval

TRACED_HITS = 10
"""Candidates recorded in the trace per search, best first."""
RETRY_PAUSE_SECONDS = 0.2
RETRY_MIN_SECONDS = 1.0


async def search(task: SearchTask, runtime: Runtime[RunContext]) -> dict[str, Any]:
    context = runtime.context
    services = context.services
    started = time.perf_counter()
    vector = await asyncio.to_thread(services.embedder.embed_query, task["query"])
    embed_ms = (time.perf_counter() - started) * 1000
    record = CallRecord(
        run_id=context.run_id,
        node="search",
        kind="embedding",
        model=services.embedder.model_name,
        input_tokens=count_tokens(task["query"]),
        output_tokens=0,
        cache_write_tokens=0,
        cache_read_tokens=0,
        usd=0.0,
        ms=embed_ms,
        outcome="ok",
    )
    await asyncio.to_thread(services.ledger.record, record)
    add_model_ms((time.perf_counter() - started) * 1000)
    started = time.perf_counter()
    retrieval = await _retrieve_once_more_after_a_dropped_connection(context, task, vector)
    add_retrieval_ms((time.perf_counter() - started) * 1000)
    result = SearchResult(task["query"], task["hop"], tuple(vector), tuple(retrieval.hits), dict(retrieval.paths))
    note_inputs(task["query"])
    note(f"{len(result.candidates)} candidates")
    note_hits([span_hit(fused, fused.score) for fused in result.candidates[:TRACED_HITS]])
    return {"searches": [result]}


async def _retrieve_once_more_after_a_dropped_connection(
    context: RunContext, task: SearchTask, vector: list[float]
) -> Retrieval:
    """Retrieval only reads, so a connection the server dropped mid-query (a restart, a failover) is
    worth one more try on a fresh one, if the run has time; the pool has discarded the dead one."""
    retriever, k = context.services.retriever, context.services.config.candidates_per_query

    async def attempt() -> Retrieval:
        return await retriever.aretrieve(
            task["query"],
            principal=task["principal"],
            filters=task["filters"],
            k=k,
            rerank=False,
            query_vector=vector,
        )

    try:
        return await attempt()
    except DatabaseUnavailable as exc:
        if context.pool.work_deadline - time.monotonic() < RETRY_MIN_SECONDS:
            raise
        note(f"retried after: {exc}")
    await asyncio.sleep(RETRY_PAUSE_SECONDS)
    return await attempt()


def span_hit(fused: FusedHit, score: float) -> SpanHit:
    hit = fused.hit
    ranks = {name: rank.rank for name, rank in fused.ranks.items()}
    return SpanHit(
        document_id=hit.document_id, chunk_id=hit.chunk_id, title=hit.title, score=round(score, 4), ranks=ranks
    )
