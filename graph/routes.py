"""Routing functions: where the run goes after each node. A recorded stop always leads to finalize."""

from typing import Literal

from langgraph.types import Send

from graph.state import SearchTask, State


def _searches(state: State) -> list[Send]:
    return [
        Send("search", SearchTask(query=q, hop=state["hop"], principal=state["principal"], filters=state["filters"]))
        for q in state.get("sub_queries", [])
    ]


def entry(state: State) -> Literal["contextualize", "cache_lookup"]:
    """A chat follow-up is first made to stand on its own; a first question goes straight to the cache."""
    return "contextualize" if state.get("history") else "cache_lookup"


def after_contextualize(state: State) -> Literal["cache_lookup", "finalize"]:
    return "finalize" if state.get("stop") else "cache_lookup"


def after_cache_lookup(state: State) -> Literal["plan", "finalize"]:
    """A cache hit is served by finalize; a miss is researched."""
    return "finalize" if state.get("stop") or state.get("cached") else "plan"


def after_plan(state: State) -> list[Send] | Literal["finalize"]:
    if state.get("stop") or not state.get("sub_queries"):
        return "finalize"
    return _searches(state)


def after_rerank(state: State) -> Literal["synthesize", "finalize"]:
    return "finalize" if state.get("stop") else "synthesize"


def after_synthesize(state: State) -> Literal["reflect", "finalize"]:
    return "finalize" if state.get("stop") else "reflect"


def after_reflect(state: State) -> list[Send] | Literal["finalize"]:
    """Another hop when reflect asked for one (it counts hops and records a stop at the limit)."""
    return after_plan(state)
