"""The research graph's shape is pinned: a change to nodes or routes must update the snapshot on purpose."""

from pathlib import Path

from quarry.graph.budget.limits import Limits
from quarry.graph.builder import build_graph

SNAPSHOT = Path(__file__).resolve().parents[1] / "snapshots" / "research_graph.mmd"


def test_graph_draws_as_the_pinned_mermaid_snapshot():
    assert build_graph().get_graph().draw_mermaid() == SNAPSHOT.read_text()


def test_every_route_can_reach_finalize_and_only_the_cache_store_after_it_ends():
    drawn = build_graph().get_graph()
    targets: dict[str, set[str]] = {}
    for edge in drawn.edges:
        targets.setdefault(edge.source, set()).add(edge.target)
    for node in ("contextualize", "cache_lookup", "plan", "rerank", "synthesize", "reflect"):
        assert "finalize" in targets[node], node
    assert targets["finalize"] == {"cache_store"} and targets["cache_store"] == {"__end__"}
    assert [source for source, ends in targets.items() if "__end__" in ends] == ["cache_store"]


def test_recursion_limit_is_derived_from_max_hops():
    assert Limits(max_hops=1).recursion_limit() == 10 and Limits(max_hops=3).recursion_limit() == 18
