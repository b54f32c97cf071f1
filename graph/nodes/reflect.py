"""reflect: are there parts of the question still open? Turns them into the next searches.

No model call. Once every part of the question is answered by a cited sentence, the loop stops
searching, whatever gaps the draft still names (no junk hops). While a part is open, the draft's
gaps (the synthesizing model's own search queries) not yet run are the next hop; when every gap
was already run, the open parts themselves are searched, led by the names the answer so far
introduced ("Atlas team where is that team based"), so a repeated follow-up never ends the loop
early. Reflect caps the queries and counts hops exactly.
"""

from typing import Any

from langgraph.runtime import Runtime

from quarry.corpus.entities import entity_names
from quarry.graph.context import RunContext
from quarry.graph.state import Draft, State, Stop
from quarry.graph.trace import note
from quarry.tools.question_parts import Part

MAX_BRIDGES = 2


async def reflect(state: State, runtime: Runtime[RunContext]) -> dict[str, Any]:
    context = runtime.context
    draft = state.get("draft")
    unanswered = state.get("open_parts", ())
    if draft is not None and not unanswered:
        if state.get("gaps"):
            note("every part answered: the draft's gaps are not searched")
        return {"sub_queries": []}
    asked = list(state.get("asked", []))
    done = {_key(q) for q in asked}
    follow_ups = list(dict.fromkeys(g for g in state.get("gaps", []) if _key(g) not in done))
    if not follow_ups and draft is not None:
        follow_ups = [q for q in _part_queries(unanswered, draft, state["question"]) if _key(q) not in done]
    follow_ups = list(dict.fromkeys(follow_ups))[: context.services.config.max_subqueries]
    if not follow_ups:
        if unanswered:
            note("still open, every search for it already run: " + "; ".join(p.text for p in unanswered))
        return {"sub_queries": []}
    hop = state.get("hop", 0)
    max_hops = context.pool.limits.max_hops
    if hop >= max_hops:
        detail = f"{max_hops} hop(s) used with {len(follow_ups)} question(s) still open: " + "; ".join(follow_ups)
        return {"sub_queries": [], "stop": Stop("hops", detail)}
    note("next hop: " + " · ".join(follow_ups))
    return {"sub_queries": follow_ups, "asked": asked + follow_ups, "hop": hop + 1}


def _part_queries(parts: tuple[Part, ...], draft: Draft, question: str) -> list[str]:
    """For each open part: the part led by the names the cited answer introduced, then the part alone."""
    named = question.casefold()
    bridges = [
        name
        for claim in draft.check.claims
        if claim.markers
        for name in entity_names(claim.text)
        if name.casefold() not in named
    ]
    lead = " ".join(list(dict.fromkeys(bridges))[:MAX_BRIDGES])
    queries: list[str] = []
    for part in parts:
        if lead:
            queries.append(f"{lead} {part.text}")
        queries.append(part.text)
    return queries


def _key(query: str) -> str:
    return " ".join(query.casefold().split())
