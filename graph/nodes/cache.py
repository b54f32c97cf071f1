"""cache_lookup and cache_store: the semantic cache's seams in the research loop.

cache_lookup embeds the question (after a follow-up was made to stand on its own) and asks the
cache; a hit goes straight to finalize, which serves the cached answer with no model call.
cache_store, after finalize, keeps a complete answer that answers every part of its question (never
a partial one, never an unanswered or partly answered one, never a served one).
"""

import asyncio
import time
from typing import Any

from langgraph.runtime import Runtime

from quarry.corpus.tokens import count_tokens
from quarry.graph.answer import Answer
from quarry.graph.budget.ledger import CallRecord
from quarry.graph.context import RunContext
from quarry.graph.state import State
from quarry.graph.trace import add_model_ms, add_retrieval_ms, note, note_inputs
from quarry.tools.cache import NewEntry


async def cache_lookup(state: State, runtime: Runtime[RunContext]) -> dict[str, Any]:
    context = runtime.context
    services = context.services
    cache = services.cache
    if cache is None or not context.use_cache:
        return {}
    question = state["question"]
    started = time.perf_counter()
    vector = await asyncio.to_thread(services.embedder.embed_query, question)
    embed_ms = (time.perf_counter() - started) * 1000
    await asyncio.to_thread(
        services.ledger.record,
        CallRecord(
            run_id=context.run_id,
            node="cache_lookup",
            kind="embedding",
            model=services.embedder.model_name,
            input_tokens=count_tokens(question),
            output_tokens=0,
            cache_write_tokens=0,
            cache_read_tokens=0,
            usd=0.0,
            ms=embed_ms,
            outcome="ok",
        ),
    )
    add_model_ms((time.perf_counter() - started) * 1000)
    started = time.perf_counter()
    found = await asyncio.to_thread(
        cache.lookup,
        question,
        vector,
        state["principal"],
        state["filters"],
        context.corpus_version,
    )
    add_retrieval_ms((time.perf_counter() - started) * 1000)
    note_inputs(question)
    if found.hit is not None:
        hit = found.hit
        # Never the cached question itself: it may be another principal's (with the same groups).
        note(f"hit: {hit.similarity:.3f} to a cached question (entry {hit.entry_id}, saves ${hit.cost_usd:.6f})")
    elif found.refused:
        note(f"miss: the guard refused a close question ({found.refused})")
    else:
        note(f"miss: nearest {found.best_similarity:.3f} (threshold {cache.config.threshold})")
    return {"question_vector": tuple(vector), "cached": found.hit}


async def cache_store(state: State, runtime: Runtime[RunContext]) -> dict[str, Any]:
    context = runtime.context
    cache = context.services.cache
    answer = state.get("answer")
    vector = state.get("question_vector")
    if cache is None or not context.use_cache or answer is None or not vector:
        return {}
    if answer.cache_hit or answer.partial or answer.answered is not True:
        note("not stored: " + _why_not_stored(answer))
        return {}
    total = answer.spend.total()
    started = time.perf_counter()
    entry = await asyncio.to_thread(
        cache.store,
        NewEntry(
            question=answer.question,
            vector=vector,
            principal=state["principal"],
            filters=state["filters"],
            corpus_version=context.corpus_version,
            answer=answer.record(),
            run_id=context.run_id,
            cost_usd=total.usd,
            tokens=total.tokens,
        ),
    )
    add_retrieval_ms((time.perf_counter() - started) * 1000)
    note(f"stored as entry {entry}")
    return {}


def _why_not_stored(answer: Answer) -> str:
    if answer.cache_hit:
        return "served from the cache"
    if answer.partial:
        return f"partial ({answer.stopped_by})"
    return "partly answered" if answer.answered == "partly" else "unanswered"
