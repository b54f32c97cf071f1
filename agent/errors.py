"""The front door's errors; they live in the one tree in quarry.errors (re-exported here)."""

from quarry.errors import ConfigError, QuarryError, UsageError

__all__ = ["ConfigError", "QuarryError", "UsageError"]
