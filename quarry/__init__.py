"""Quarry: an agentic research assistant with hybrid retrieval and hard budget enforcement.

The public surface is re-exported here and resolved on first use, so `import quarry` loads no
model or database code:

    from quarry import Assistant, Limits

    with Assistant.from_config() as assistant:
        answer = assistant.ask("Which team owns Ledgerline?", budget=Limits(max_usd=0.05))

The distribution installs this one namespace. Its sub-packages live in the repository's
top-level folders (mapped in pyproject.toml): `quarry.agent` (front doors), `quarry.graph`
(the engine and budget controller), `quarry.tools` (retrievers, LLM clients, cache),
`quarry.corpus` (documents and storage) and `quarry.eval` (`quarry eval`).
"""

from quarry.agent import _EXPORTS as _AGENT_EXPORTS
from quarry.corpus.exports import lazy_exports

_EXPORTS = dict(_AGENT_EXPORTS)

__all__ = sorted(_EXPORTS)

__getattr__ = lazy_exports(__name__, _EXPORTS)
