"""LLM clients behind one protocol: Claude (anthropic SDK), any OpenAI-compatible endpoint (httpx), and
the offline extractive model."""

from quarry.corpus.exports import lazy_exports

_EXPORTS = {
    "ChatModel": "quarry.tools.llm.base",
    "ClaudeModel": "quarry.tools.llm.claude",
    "Completion": "quarry.tools.llm.base",
    "ExtractiveModel": "quarry.tools.llm.extractive",
    "LLMConfig": "quarry.tools.llm.config",
    "LLMError": "quarry.errors",
    "LLMTimeout": "quarry.errors",
    "LLMUnavailable": "quarry.errors",
    "ModelPrice": "quarry.tools.llm.pricing",
    "OpenAICompatModel": "quarry.tools.llm.openai_compat",
    "Prompt": "quarry.tools.llm.base",
    "Usage": "quarry.tools.llm.pricing",
}

__all__ = sorted(_EXPORTS)

__getattr__ = lazy_exports(__name__, _EXPORTS)
