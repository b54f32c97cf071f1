"""reflect: are there gaps worth another hop? Turns the draft's gaps into the next searches.

No model call: the synthesizing model already named what is missing as search queries, so
reflect only drops queries already run, caps their number, and counts hops exactly.
"""

from typing import Any

from langgraph.runtime import Runtime

from quarry.graph.context import RunContext
from quarry.graph.state import State, Stop
from quarry.graph.trace import note


async def reflect(state: State, runtime: Runtime[RunContext]) -> dict[str, Any]:
    context = runtime.context
    asked = list(state.get("asked", []))
    done = {_key(q) for q in asked}
    follow_ups = list(dict.fromkeys(g for g in state.get("gaps", []) if _key(g) not in done))
    follow_ups = follow_ups[: context.services.config.max_subqueries]
    if not follow_ups:
        return {"sub_queries": []}
    hop = state.get("hop", 0)
    max_hops = context.pool.limits.max_hops
    if hop >= max_hops:
        detail = f"{max_hops} hop(s) used with {len(follow_ups)} question(s) still open: " + "; ".join(follow_ups)
        return {"sub_queries": [], "stop": Stop("hops", detail)}
    note("next hop: " + " · ".join(follow_ups))
    return {"sub_queries": follow_ups, "asked": asked + follow_ups, "hop": hop + 1}


def _key(query: str) -> str:
    return " ".join(query.casefold().split())
