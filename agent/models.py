"""Chooses the models per tier: Claude or an OpenAI-compatible endpoint (each tier its own, so a local
model can plan while Claude synthesizes), else the offline extractive model for both."""

from collections.abc import Mapping
from dataclasses import dataclass

from quarry.errors import ConfigError
from quarry.tools.llm.base import ChatModel
from quarry.tools.llm.claude import ClaudeModel
from quarry.tools.llm.config import TIERS, LLMConfig, Provider, Tier
from quarry.tools.llm.extractive import ExtractiveModel
from quarry.tools.llm.openai_compat import OPENAI_BASE_URL, OpenAICompatModel

API_KEY_ENV = "ANTHROPIC_API_KEY"
BASE_URL_ENV = "ANTHROPIC_BASE_URL"
OPENAI_KEY_ENV = "OPENAI_API_KEY"
OPENAI_BASE_URL_ENV = "OPENAI_BASE_URL"


@dataclass(frozen=True)
class Models:
    cheap: ChatModel
    premium: ChatModel
    online: bool
    """True when the models are online (Claude or an OpenAI-compatible endpoint)."""
    fallback: ChatModel | None = None
    """Answers when an online model is unavailable (llm.fallback: offline)."""


def build_models(config: LLMConfig, environ: Mapping[str, str]) -> Models:
    key = environ.get(API_KEY_ENV, "").strip()
    if config.provider == "offline" or (config.provider == "auto" and not key):
        model = ExtractiveModel(max_sentences=config.extractive_max_sentences)
        return Models(model, model, online=False)
    built: dict[tuple[Provider, str], ChatModel] = {}

    def tier(which: Tier) -> ChatModel:
        provider = config.tier_provider(which) or "claude"  # auto with a key: Claude
        name = config.tier_model(which)
        if (provider, name) not in built:
            built[provider, name] = (
                _claude(config, which, key, environ) if provider == "claude" else _openai(config, name, environ)
            )
        return built[provider, name]

    cheap, premium = (tier(which) for which in TIERS)
    fallback = ExtractiveModel(max_sentences=config.extractive_max_sentences) if config.fallback == "offline" else None
    return Models(cheap, premium, online=True, fallback=fallback)


def _claude(config: LLMConfig, which: Tier, key: str, environ: Mapping[str, str]) -> ClaudeModel:
    if not key:
        setting = "llm.provider" if config.provider == "claude" else f"llm.{which}_provider"
        raise ConfigError(
            f"{setting} is 'claude' but {API_KEY_ENV} is not set (set it, or use provider 'auto' or 'offline')"
        )
    name = config.tier_model(which)
    return ClaudeModel(
        name,
        config.prices[name],
        api_key=key,
        base_url=config.base_url or environ.get(BASE_URL_ENV) or None,
        safety_factor=config.safety_factor,
        max_attempts=config.max_attempts,
        backoff_base_s=config.backoff_base_s,
        backoff_cap_s=config.backoff_cap_s,
        read_timeout_s=config.read_timeout_s,
    )


def _openai(config: LLMConfig, name: str, environ: Mapping[str, str]) -> OpenAICompatModel:
    base_url = config.openai_base_url or environ.get(OPENAI_BASE_URL_ENV, "").strip() or OPENAI_BASE_URL
    key = environ.get(OPENAI_KEY_ENV, "").strip() or None
    if key is None and base_url.rstrip("/") == OPENAI_BASE_URL:
        raise ConfigError(
            f"llm model '{name}' uses OpenAI's API but {OPENAI_KEY_ENV} is not set "
            "(set it, or point llm.openai_base_url at a local server such as http://localhost:11434/v1)"
        )
    return OpenAICompatModel(
        name,
        config.prices[name],
        base_url=base_url,
        api_key=key,
        safety_factor=config.safety_factor,
        max_attempts=config.max_attempts,
        backoff_base_s=config.backoff_base_s,
        backoff_cap_s=config.backoff_cap_s,
        read_timeout_s=config.read_timeout_s,
        stream=config.openai_stream,
    )
