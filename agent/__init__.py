"""Quarry's front door: the Python API (`Assistant`, `Session`), settings, and the `quarry` CLI.

Names are re-exported lazily, so `import agent` (and `quarry --help`) loads no model or database code.
"""

from corpus.exports import lazy_exports

_EXPORTS = {
    "Assistant": "agent.assistant",
    "Session": "agent.session",
    "InvalidFilters": "agent.assistant",
    "SessionNotFound": "agent.sessions",
    "SessionForbidden": "agent.sessions",
    "RunNotFound": "agent.history",
    "RunForbidden": "agent.history",
    "RunSummary": "agent.history",
    "RunRecord": "agent.history",
    "SpendRow": "agent.history",
    "Answer": "graph.answer",
    "Citation": "graph.answer",
    "Limits": "graph.budget.limits",
    "InvalidQuestion": "graph.errors",
    "BudgetLeft": "graph.events",
    "NodeStarted": "graph.events",
    "NodeFinished": "graph.events",
    "HitsFound": "graph.events",
    "TokensSpent": "graph.events",
    "DraftReady": "graph.events",
    "FinalAnswer": "graph.events",
    "RunEvent": "graph.events",
    "Principal": "corpus.filters",
    "SearchFilters": "corpus.filters",
    "IngestReport": "corpus.ingest",
    "ConfigError": "agent.errors",
    "QuarryError": "agent.errors",
    "Models": "agent.models",
    "build_models": "agent.models",
    "Runtime": "agent.runtime",
    "Settings": "agent.settings",
    "load_settings": "agent.settings",
}

__all__ = sorted(_EXPORTS)

__getattr__ = lazy_exports(__name__, _EXPORTS)
