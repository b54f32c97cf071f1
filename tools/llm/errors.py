"""Errors from LLM clients; they live in the one tree in quarry.errors (re-exported here)."""

from quarry.errors import LLMError, LLMTimeout, LLMUnavailable

__all__ = ["LLMError", "LLMTimeout", "LLMUnavailable"]
