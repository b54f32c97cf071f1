"""The LangGraph state machine (plan → search ×N → rerank → synthesize → reflect → finalize) and the
budget controller every node runs under. Re-exported lazily."""

from corpus.exports import lazy_exports

_EXPORTS = {
    "Answer": "graph.answer",
    "BudgetExceeded": "graph.errors",
    "BudgetPool": "graph.budget.pool",
    "Citation": "graph.answer",
    "InvalidQuestion": "graph.errors",
    "Limits": "graph.budget.limits",
    "Remaining": "graph.budget.pool",
    "ResearchConfig": "graph.config",
    "Researcher": "graph.runner",
    "RunContext": "graph.context",
    "Services": "graph.context",
    "Spend": "graph.budget.spend",
    "build_graph": "graph.builder",
}

__all__ = sorted(_EXPORTS)

__getattr__ = lazy_exports(__name__, _EXPORTS)
