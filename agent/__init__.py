"""Quarry's front door: settings, the component runtime, and the `quarry` CLI. Re-exported lazily."""

from importlib import import_module
from typing import Any

_EXPORTS = {
    "ConfigError": "agent.errors",
    "QuarryError": "agent.errors",
    "Runtime": "agent.runtime",
    "Settings": "agent.settings",
    "load_settings": "agent.settings",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'agent' has no attribute {name!r}")
    return getattr(import_module(_EXPORTS[name]), name)
