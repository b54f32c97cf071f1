"""Quarry's front door: the Python API (`Assistant`, `Session`), settings, and the `quarry` CLI.

Names are re-exported lazily, so `import agent` (and `quarry --help`) loads no model or database code.
"""

from quarry.corpus.exports import lazy_exports

_EXPORTS = {
    "Assistant": "quarry.agent.assistant",
    "AskOptions": "quarry.agent.assistant",
    "TurnOptions": "quarry.agent.chat_session",
    "Session": "quarry.agent.chat_session",
    "InvalidFilters": "quarry.errors",
    "InvalidPrincipal": "quarry.errors",
    "SessionNotFound": "quarry.errors",
    "SessionForbidden": "quarry.errors",
    "RunNotFound": "quarry.errors",
    "RunForbidden": "quarry.errors",
    "RunSummary": "quarry.agent.ledger_view",
    "RunRecord": "quarry.agent.ledger_view",
    "SpendRow": "quarry.agent.ledger_view",
    "Answer": "quarry.graph.answer",
    "Citation": "quarry.graph.answer",
    "Limits": "quarry.graph.budget.limits",
    "InvalidQuestion": "quarry.errors",
    "BudgetLeft": "quarry.graph.events",
    "NodeStarted": "quarry.graph.events",
    "NodeFinished": "quarry.graph.events",
    "HitsFound": "quarry.graph.events",
    "TokensSpent": "quarry.graph.events",
    "DraftReady": "quarry.graph.events",
    "TextDelta": "quarry.graph.events",
    "FinalAnswer": "quarry.graph.events",
    "RunEvent": "quarry.graph.events",
    "Principal": "quarry.corpus.filters",
    "SearchFilters": "quarry.corpus.filters",
    "IngestReport": "quarry.corpus.ingest",
    "Deletion": "quarry.agent.lifecycle",
    "DocumentNotFound": "quarry.errors",
    "ConfigError": "quarry.errors",
    "QuarryError": "quarry.errors",
    "Models": "quarry.agent.models",
    "build_models": "quarry.agent.models",
    "Components": "quarry.agent.components",
    "ResearchRequest": "quarry.graph.engine",
    "Settings": "quarry.agent.settings",
    "load_settings": "quarry.agent.settings",
}

__all__ = sorted(_EXPORTS)

__getattr__ = lazy_exports(__name__, _EXPORTS)
