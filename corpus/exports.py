"""Lazy re-exports for package __init__ files: `import corpus.config` must not drag in psycopg or
torch, and `quarry --help` must stay fast, so public names resolve on first attribute access."""

from collections.abc import Callable, Mapping
from importlib import import_module
from typing import Any


def lazy_exports(package: str, exports: Mapping[str, str]) -> Callable[[str], Any]:
    """A module-level `__getattr__` resolving `exports` (name → defining module) on demand."""

    def __getattr__(name: str) -> Any:
        if name not in exports:
            raise AttributeError(f"module '{package}' has no attribute {name!r}")
        return getattr(import_module(exports[name]), name)

    return __getattr__
