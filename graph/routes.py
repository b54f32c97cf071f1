"""Routing functions: where the run goes after each node. A recorded stop always leads to finalize.

They are async although they never await: LangGraph runs a sync route in the event loop's default
thread pool, where under load it queues behind other runs' retrieval work (bench/bench_load: up to
~0.4 s between a node stopped at the deadline and finalize, with 64 sessions on 2 cores), eating the
time held back for finalize. On the loop a route costs microseconds."""

from typing import Literal

from langgraph.types import Send

from quarry.graph.state import SearchTask, State


def _searches(state: State) -> list[Send]:
    return [
        Send("search", SearchTask(query=q, hop=state["hop"], principal=state["principal"], filters=state["filters"]))
        for q in state.get("sub_queries", [])
    ]


async def entry(state: State) -> Literal["contextualize", "cache_lookup"]:
    """A chat follow-up is first made to stand on its own; a first question goes straight to the cache."""
    return "contextualize" if state.get("history") else "cache_lookup"


async def after_contextualize(state: State) -> Literal["cache_lookup", "finalize"]:
    return "finalize" if state.get("stop") else "cache_lookup"


async def after_cache_lookup(state: State) -> Literal["plan", "finalize"]:
    """A cache hit is served by finalize; a miss is researched."""
    return "finalize" if state.get("stop") or state.get("cached") else "plan"


async def after_plan(state: State) -> list[Send] | Literal["finalize"]:
    if state.get("stop") or not state.get("sub_queries"):
        return "finalize"
    return _searches(state)


async def after_rerank(state: State) -> Literal["synthesize", "finalize"]:
    return "finalize" if state.get("stop") else "synthesize"


async def after_synthesize(state: State) -> Literal["reflect", "finalize"]:
    return "finalize" if state.get("stop") else "reflect"


async def after_reflect(state: State) -> list[Send] | Literal["finalize"]:
    """Another hop when reflect asked for one (it counts hops and records a stop at the limit)."""
    return await after_plan(state)
