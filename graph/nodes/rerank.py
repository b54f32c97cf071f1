"""rerank: cut each search's fused candidates to the few best, before the premium model sees any.

Offline: the embedding reranker over stored vectors (no model call). With Claude: the cheap tier
scores snippets of every candidate, one call per search, all concurrent and all drawing on the
run's one budget; a search whose scoring call cannot be afforded keeps its fused order instead.
New evidence gets the next free marker; evidence from earlier hops keeps its own.
"""

import asyncio
import time
from collections.abc import Sequence
from typing import Any

from langgraph.runtime import Runtime

from quarry.corpus.tokens import count_tokens, encoding
from quarry.errors import BudgetExceeded, LLMUnavailable
from quarry.graph.budget.metered import call_model
from quarry.graph.context import RunContext
from quarry.graph.nodes.search import span_hit
from quarry.graph.state import Evidence, SearchResult, State
from quarry.graph.trace import add_retrieval_ms, note, note_hits, note_inputs
from quarry.tools.fusion import FusedHit
from quarry.tools.llm.base import Passage, RerankTask
from quarry.tools.llm.prompts import parse_scores, rerank_prompt
from quarry.tools.packing import format_block

Ranked = list[tuple[FusedHit, float]]


async def rerank(state: State, runtime: Runtime[RunContext]) -> dict[str, Any]:
    context = runtime.context
    results = [s for s in state.get("searches", []) if s.hop == state["hop"]]
    if context.services.llm_rerank:
        ranked = await asyncio.gather(*(_by_cheap_model(result, context) for result in results))
    else:
        started = time.perf_counter()
        ranked = [await asyncio.to_thread(_offline, result, context) for result in results]
        add_retrieval_ms((time.perf_counter() - started) * 1000)  # reads stored vectors: retrieval work
    evidence = merge_evidence(state.get("evidence", []), results, ranked)
    kept = [(fused, score) for kept_per_search in ranked for fused, score in kept_per_search]
    note_inputs(f"{sum(len(r.candidates) for r in results)} candidates from {len(results)} search(es)")
    note(f"kept {len(kept)}; evidence now {len(evidence)} passage(s)")
    note_hits([span_hit(fused, score) for fused, score in kept])
    return {"evidence": evidence}


def merge_evidence(
    existing: Sequence[Evidence], results: Sequence[SearchResult], ranked: Sequence[Ranked]
) -> list[Evidence]:
    evidence = list(existing)
    seen = {e.hit.chunk_id for e in evidence}
    for result, kept in zip(results, ranked):
        for fused, score in kept:
            if fused.hit.chunk_id in seen:
                continue
            seen.add(fused.hit.chunk_id)
            marker = len(evidence) + 1
            evidence.append(
                Evidence(
                    marker,
                    fused.hit,
                    score,
                    result.query,
                    result.hop,
                    fused.ranks,
                    tuple(result.paths.get(fused.hit.chunk_id, ())),
                    count_tokens(format_block(marker, fused.hit)),
                )
            )
    return evidence


def _offline(result: SearchResult, context: RunContext) -> Ranked:
    services = context.services
    keep = services.config.keep_per_query
    if services.reranker is None:
        return [(f, f.score) for f in result.candidates[:keep]]
    reranked = services.reranker.rerank(result.query, result.vector, result.candidates, keep)
    return [(r.fused, r.score) for r in reranked]


async def _by_cheap_model(result: SearchResult, context: RunContext) -> Ranked:
    services = context.services
    config = services.config
    candidates = result.candidates
    if not candidates:
        return []
    passages = tuple(
        Passage(i, c.hit.title, c.hit.source, _clip(c.hit.text, config.rerank_passage_tokens))
        for i, c in enumerate(candidates, start=1)
    )
    try:
        reply = await call_model(
            services.cheap,
            rerank_prompt(RerankTask(result.query, passages)),
            node="rerank",
            run_id=context.run_id,
            pool=context.pool,
            ledger=services.ledger,
            max_tokens=min(config.rerank_max_tokens, 6 * len(passages) + 16),
            min_tokens=min(config.min_output_tokens, 6 * len(passages)),
        )
    except (BudgetExceeded, LLMUnavailable):
        return [(f, f.score) for f in candidates[: config.keep_per_query]]
    scores = parse_scores(reply.completion.text, [p.marker for p in passages])
    order = sorted(range(len(candidates)), key=lambda i: (-scores.get(i + 1, 0.0), i))
    return [(candidates[i], scores.get(i + 1, 0.0)) for i in order[: config.keep_per_query]]


def _clip(text: str, tokens: int) -> str:
    ids = encoding().encode(text)
    return text if len(ids) <= tokens else encoding().decode(ids[:tokens]) + " …"
