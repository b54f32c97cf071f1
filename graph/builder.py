"""Builds the research loop:

    START ─┬─(chat follow-up)─→ contextualize ─→ cache_lookup ─┬─(hit)──→ finalize
           └──────────────────────────────────→ cache_lookup ─┴─(miss)─→ plan
    plan → search ×N (parallel) → rerank → synthesize → reflect ─┬─→ search ×N (next hop)
                                                                 └─→ finalize → cache_store → END
Every node runs under the budget guard (finalize in its reserve form); any node can route to finalize.
"""

from langgraph.graph import END, START, StateGraph
from langgraph.graph.state import CompiledStateGraph

from quarry.graph.budget.guard import guarded
from quarry.graph.context import RunContext
from quarry.graph.nodes.cache import cache_lookup, cache_store
from quarry.graph.nodes.contextualize import contextualize, contextualize_needs
from quarry.graph.nodes.finalize import finalize
from quarry.graph.nodes.plan import plan, plan_needs
from quarry.graph.nodes.reflect import reflect
from quarry.graph.nodes.rerank import rerank
from quarry.graph.nodes.search import search
from quarry.graph.nodes.synthesize import synthesize, synthesize_needs
from quarry.graph.routes import (
    after_cache_lookup,
    after_contextualize,
    after_plan,
    after_reflect,
    after_rerank,
    after_synthesize,
    entry,
)
from quarry.graph.state import InputState, OutputState, State


def build_graph() -> CompiledStateGraph[State, RunContext, InputState, OutputState]:
    builder = StateGraph(State, context_schema=RunContext, input_schema=InputState, output_schema=OutputState)
    builder.add_node("contextualize", guarded("contextualize", contextualize, contextualize_needs))
    builder.add_node("cache_lookup", guarded("cache_lookup", cache_lookup))
    builder.add_node("cache_store", guarded("cache_store", cache_store, reserve=True))
    builder.add_node("plan", guarded("plan", plan, plan_needs))
    builder.add_node("search", guarded("search", search))
    builder.add_node("rerank", guarded("rerank", rerank))
    builder.add_node("synthesize", guarded("synthesize", synthesize, synthesize_needs))
    builder.add_node("reflect", guarded("reflect", reflect))
    builder.add_node("finalize", guarded("finalize", finalize, reserve=True))
    builder.add_conditional_edges(START, entry, ["contextualize", "cache_lookup"])
    builder.add_conditional_edges("contextualize", after_contextualize, ["cache_lookup", "finalize"])
    builder.add_conditional_edges("cache_lookup", after_cache_lookup, ["plan", "finalize"])
    builder.add_conditional_edges("plan", after_plan, ["search", "finalize"])
    builder.add_edge("search", "rerank")
    builder.add_conditional_edges("rerank", after_rerank, ["synthesize", "finalize"])
    builder.add_conditional_edges("synthesize", after_synthesize, ["reflect", "finalize"])
    builder.add_conditional_edges("reflect", after_reflect, ["search", "finalize"])
    builder.add_edge("finalize", "cache_store")
    builder.add_edge("cache_store", END)
    return builder.compile(name="quarry-research")
