"""The research engine (`Engine`, one `ResearchRequest` in, typed run events out), the LangGraph state
machine it runs (plan → search ×N → rerank → synthesize → reflect → finalize), the budget controller
every node runs under, and the chat-session store. Re-exported lazily."""

from quarry.corpus.exports import lazy_exports

_EXPORTS = {
    "Answer": "quarry.graph.answer",
    "BudgetExceeded": "quarry.errors",
    "BudgetPool": "quarry.graph.budget.pool",
    "Citation": "quarry.graph.answer",
    "Engine": "quarry.graph.engine",
    "InvalidQuestion": "quarry.errors",
    "Limits": "quarry.graph.budget.limits",
    "Remaining": "quarry.graph.budget.pool",
    "ResearchConfig": "quarry.graph.config",
    "ResearchRequest": "quarry.graph.engine",
    "RunResult": "quarry.graph.engine",
    "RunContext": "quarry.graph.context",
    "Services": "quarry.graph.context",
    "SessionForbidden": "quarry.errors",
    "SessionNotFound": "quarry.errors",
    "SessionStore": "quarry.graph.session_store",
    "Spend": "quarry.graph.budget.spend",
    "build_graph": "quarry.graph.builder",
}

__all__ = sorted(_EXPORTS)

__getattr__ = lazy_exports(__name__, _EXPORTS)
