"""finalize: always runs, inside the reserve; turns the best draft so far into the Answer.

Citations are renumbered [1..n] in order of first use and resolved to their evidence (document,
chunk, offsets, passage) and to the sentence(s) of the chunk that support the claims citing it
(the quote). Without a draft, the answer quotes the most relevant evidence found, cited; without
evidence, it says so; a run stopped before any search says why. A stop reason makes the answer
partial; separately, the answer says which parts of the question it answers (graph/outcome.py).
"""

import asyncio
import time
from collections.abc import Iterable
from dataclasses import replace
from typing import Any

from langgraph.runtime import Runtime

from quarry.graph.answer import Answer, Citation, CitationStats, ImageRef
from quarry.graph.budget.spend import Spend
from quarry.graph.context import RunContext
from quarry.graph.outcome import answered, still_open
from quarry.graph.state import Evidence, State
from quarry.tools.cache import CacheHit
from quarry.tools.citations import CheckedClaim, strip_markers, with_markers
from quarry.tools.question_parts import question_parts
from quarry.tools.quotes import quote_span
from quarry.tools.sentences import readable, sentence_spans
from quarry.tools.text import content_terms

FALLBACK_PASSAGES = 3


async def finalize(state: State, runtime: Runtime[RunContext]) -> dict[str, Any]:
    context = runtime.context
    cached = state.get("cached")
    if cached is not None:
        return {"answer": _from_cache(state, cached, context)}
    evidence = {e.marker: e for e in state.get("evidence", [])}
    stop = state.get("stop")
    draft = state.get("draft")
    citations: dict[int, Citation] = {}
    parts = state.get("parts") or question_parts(state["question"])
    searched = bool(state.get("searches"))
    if draft is not None and draft.check.claims:
        text = " ".join(_render(claim, evidence, citations) for claim in draft.check.claims)
        check = draft.check
        citations = _quoted(citations, check.claims, evidence)
        unanswered = still_open(parts, check, {m: e.hit.title for m, e in evidence.items()})
        stats = CitationStats(
            kept=check.kept,
            unresolved=check.unresolved,
            unsupported=check.unsupported,
            flagged_sentences=check.flagged,
        )
        unsupported = tuple(c.text for c in check.claims if c.flagged)
    elif not searched:
        text = _never_searched(state)
        stats, unsupported, unanswered = CitationStats(), (), tuple(parts)
    else:
        text = _quote_evidence(state, evidence, citations)
        stats, unsupported, unanswered = CitationStats(kept=len(citations)), (), tuple(parts)
    answer = Answer(
        question=state["question"],
        text=text,
        citations=await _with_images(tuple(citations.values()), context),
        partial=stop is not None,
        stopped_by=stop.reason if stop else None,
        stop_detail=stop.detail if stop else "",
        hops=state.get("hop", 0),
        spend=state.get("spend") or Spend(),
        run_id=context.run_id,
        elapsed_s=time.monotonic() - context.pool.started_at,
        gaps=tuple(state.get("gaps", [])),
        citation_stats=stats,
        unsupported_sentences=unsupported,
        model=draft.model if draft else "",
        asked_as=state.get("asked_as", ""),
        evidence_sources=_sources(evidence.values()),
        answered=answered(parts, unanswered),
        unanswered=tuple(p.text for p in unanswered),
        searched=searched,
    )
    return {"answer": answer}


def _never_searched(state: State) -> str:
    stop = state.get("stop")
    if stop is None:
        return "No search was run: the question gave nothing to search for."
    if stop.reason == "error":
        return f"No search was run: {stop.detail.rstrip('.')}."
    return f"No search was run: the {stop.reason} limit stopped the run first ({stop.detail.rstrip('.')})."


def _quoted(
    citations: dict[int, Citation], claims: Iterable[CheckedClaim], evidence: dict[int, Evidence]
) -> dict[int, Citation]:
    """Each citation narrowed to the sentence(s) of its chunk that support the claims citing it."""
    citing: dict[int, list[str]] = {}
    for claim in claims:
        for marker in claim.markers:
            citing.setdefault(marker, []).append(claim.text)
    return {
        marker: _with_quote(citation, quote_span(evidence[marker].hit.text, citing.get(marker, [])))
        for marker, citation in citations.items()
    }


def _with_quote(citation: Citation, span: tuple[int, int]) -> Citation:
    start, end = span
    return replace(
        citation,
        quote_start=citation.start_char + start,
        quote_end=citation.start_char + end,
        quote=citation.text[start:end],
    )


async def _with_images(citations: tuple[Citation, ...], context: RunContext) -> tuple[Citation, ...]:
    """Citations of image captions gain the image (name, type, where to open it)."""
    index = context.services.assets
    if index is None or not citations:
        return citations
    images = await asyncio.to_thread(index.for_chunks, [c.chunk_id for c in citations])
    return tuple(
        replace(
            c,
            image=ImageRef(
                name=a.name, mime=a.mime, blob_key=a.blob_key, path=a.location, width=a.width, height=a.height
            ),
        )
        if (a := images.get(c.chunk_id))
        else c
        for c in citations
    )


def _from_cache(state: State, cached: CacheHit, context: RunContext) -> Answer:
    """The cached answer, served as this run's: its text and citations, this run's id, time and spend."""
    return replace(
        Answer.load(cached.answer),
        question=state["question"],
        partial=False,
        stopped_by=None,
        stop_detail="",
        hops=0,
        spend=state.get("spend") or Spend(),
        run_id=context.run_id,
        elapsed_s=time.monotonic() - context.pool.started_at,
        model="cache",
        asked_as=state.get("asked_as", ""),
        cache_hit=True,
        saved_usd=cached.cost_usd,
        cached_from=cached.run_id or "",
    )


def _sources(evidence: Iterable[Evidence]) -> tuple[str, ...]:
    ranked = sorted(evidence, key=lambda e: (-e.score, e.marker))
    return tuple(dict.fromkeys(e.hit.document_id for e in ranked))


def _render(claim: CheckedClaim, evidence: dict[int, Evidence], citations: dict[int, Citation]) -> str:
    numbers = [_cite(evidence[m], claim.support.get(m, 0.0), citations) for m in claim.markers if m in evidence]
    if not numbers:
        return claim.text
    return with_markers(claim.text, "".join(f"[{n}]" for n in numbers))


def _cite(item: Evidence, support: float, citations: dict[int, Citation]) -> int:
    if item.marker not in citations:
        hit = item.hit
        citations[item.marker] = Citation(
            number=len(citations) + 1,
            document_id=hit.document_id,
            chunk_id=hit.chunk_id,
            title=hit.title,
            source=hit.source,
            start_char=hit.start_char,
            end_char=hit.end_char,
            text=hit.text,
            support=round(support, 3),
            page=hit.page_first,
            page_end=hit.page_last,
            section=hit.section,
        )
    return citations[item.marker].number


def _quote_evidence(state: State, evidence: dict[int, Evidence], citations: dict[int, Citation]) -> str:
    stop = state.get("stop")
    best = sorted(evidence.values(), key=lambda e: (-e.score, e.marker))[:FALLBACK_PASSAGES]
    if stop and stop.reason == "error":
        opening = f"No answer was drafted: {stop.detail.rstrip('.')}."
    elif stop:
        opening = f"No answer was drafted before the {stop.reason} limit stopped the run."
    else:
        opening = "The evidence found does not answer the question."
    if not best:
        return "No evidence was found." if not stop else f"{opening} No evidence was found."
    wanted = content_terms(state["question"])
    quotes = []
    for item in best:
        body = item.hit.text
        spans = [(a, b) for a, b in sentence_spans(body) if not body[a:b].startswith("#")]
        if not spans:
            continue
        a, b = max(spans, key=lambda s: len(content_terms(body[s[0] : s[1]]) & wanted))
        quote = " ".join(readable(strip_markers(body[a:b])).split())  # a document's "[2]" must not read as a citation
        number = _cite(item, 0.0, citations)
        citations[item.marker] = _with_quote(citations[item.marker], (a, b))
        quotes.append(f"{quote} [{number}]")
    return f"{opening} The most relevant passages found: " + " ".join(quotes)
