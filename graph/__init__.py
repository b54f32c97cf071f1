"""The LangGraph state machine (plan → search ×N → rerank → synthesize → reflect → finalize) and the
budget controller every node runs under. Re-exported lazily."""

from quarry.corpus.exports import lazy_exports

_EXPORTS = {
    "Answer": "quarry.graph.answer",
    "BudgetExceeded": "quarry.graph.errors",
    "BudgetPool": "quarry.graph.budget.pool",
    "Citation": "quarry.graph.answer",
    "InvalidQuestion": "quarry.graph.errors",
    "Limits": "quarry.graph.budget.limits",
    "Remaining": "quarry.graph.budget.pool",
    "ResearchConfig": "quarry.graph.config",
    "Researcher": "quarry.graph.runner",
    "RunContext": "quarry.graph.context",
    "Services": "quarry.graph.context",
    "Spend": "quarry.graph.budget.spend",
    "build_graph": "quarry.graph.builder",
}

__all__ = sorted(_EXPORTS)

__getattr__ = lazy_exports(__name__, _EXPORTS)
