"""Quarry's front door: settings, the component runtime, and the `quarry` CLI. Re-exported lazily."""

from corpus.exports import lazy_exports

_EXPORTS = {
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
