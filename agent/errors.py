"""Errors raised at Quarry's front door (settings, CLI arguments, API input)."""


class QuarryError(Exception):
    """Base class for user-facing errors raised by the agent layer."""


class ConfigError(QuarryError):
    """config.yaml or a QUARRY_* variable is missing, unreadable, misspelt or out of range."""
