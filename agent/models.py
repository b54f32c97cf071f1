"""Chooses the models: Claude (cheap and premium tiers) when an API key is available, else the
offline extractive model for both."""

from collections.abc import Mapping
from dataclasses import dataclass

from quarry.errors import ConfigError
from quarry.tools.llm.base import ChatModel
from quarry.tools.llm.claude import ClaudeModel
from quarry.tools.llm.config import LLMConfig
from quarry.tools.llm.extractive import ExtractiveModel

API_KEY_ENV = "ANTHROPIC_API_KEY"
BASE_URL_ENV = "ANTHROPIC_BASE_URL"


@dataclass(frozen=True)
class Models:
    cheap: ChatModel
    premium: ChatModel
    online: bool
    """True when the models are Claude (they cost money and need the network)."""
    fallback: ChatModel | None = None
    """Answers when Claude is unavailable (llm.fallback: offline)."""


def build_models(config: LLMConfig, environ: Mapping[str, str]) -> Models:
    key = environ.get(API_KEY_ENV, "").strip()
    if config.provider == "offline" or (config.provider == "auto" and not key):
        model = ExtractiveModel(max_sentences=config.extractive_max_sentences)
        return Models(model, model, online=False)
    if not key:
        raise ConfigError(
            f"llm.provider is 'claude' but {API_KEY_ENV} is not set (set it, or use provider 'auto' or 'offline')"
        )
    base_url = config.base_url or environ.get(BASE_URL_ENV) or None

    def claude(name: str) -> ClaudeModel:
        return ClaudeModel(
            name,
            config.prices[name],
            api_key=key,
            base_url=base_url,
            safety_factor=config.safety_factor,
            max_attempts=config.max_attempts,
            backoff_base_s=config.backoff_base_s,
            backoff_cap_s=config.backoff_cap_s,
            read_timeout_s=config.read_timeout_s,
        )

    cheap = claude(config.cheap_model)
    premium = cheap if config.premium_model == config.cheap_model else claude(config.premium_model)
    fallback = ExtractiveModel(max_sentences=config.extractive_max_sentences) if config.fallback == "offline" else None
    return Models(cheap, premium, online=True, fallback=fallback)
