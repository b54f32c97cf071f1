"""LLM clients behind one protocol: Claude (anthropic SDK) and the offline extractive model."""

from corpus.exports import lazy_exports

_EXPORTS = {
    "ChatModel": "tools.llm.base",
    "ClaudeModel": "tools.llm.claude",
    "Completion": "tools.llm.base",
    "ExtractiveModel": "tools.llm.extractive",
    "LLMConfig": "tools.llm.config",
    "LLMError": "tools.llm.errors",
    "LLMTimeout": "tools.llm.errors",
    "LLMUnavailable": "tools.llm.errors",
    "ModelPrice": "tools.llm.pricing",
    "Prompt": "tools.llm.base",
    "Usage": "tools.llm.pricing",
}

__all__ = sorted(_EXPORTS)

__getattr__ = lazy_exports(__name__, _EXPORTS)
