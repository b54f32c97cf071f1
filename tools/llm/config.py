"""Settings for the models: which provider per tier, which model per tier, prices, retries."""

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from quarry.tools.llm.pricing import LongPromptRates, ModelPrice

# USD per million tokens, from Anthropic's pricing page (checked 2026-11-24). Cache writes are 5-minute writes.
DEFAULT_PRICES: dict[str, ModelPrice] = {
    "claude-haiku-5-5": ModelPrice(
        input=0.10,
        output=0.50,
        cache_write=0.125,
        cache_read=0.01,
        long_prompt=LongPromptRates(
            threshold_tokens=100_000, input=0.50, output=2.50, cache_write=0.625, cache_read=0.05
        ),
    ),
    "claude-sonnet-5-5": ModelPrice(input=2.0, output=10.0, cache_write=2.50, cache_read=0.10),
    "claude-opus-5-5": ModelPrice(input=4.0, output=20.0, cache_write=5.0, cache_read=0.20),
    "claude-haiku-4-5": ModelPrice(input=1.0, output=5.0, cache_write=1.25, cache_read=0.10),
}


Provider = Literal["claude", "openai"]
"""An online provider: Claude (Messages API) or any OpenAI-compatible chat completions endpoint."""
Tier = Literal["cheap", "premium"]
TIERS: tuple[Tier, ...] = ("cheap", "premium")


class LLMConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    provider: Literal["auto", "claude", "openai", "offline"] = "auto"
    """auto: Claude when ANTHROPIC_API_KEY is set, else the offline extractive model. openai: an
    OpenAI-compatible endpoint at `openai_base_url` (OpenAI, Ollama, vLLM, llama.cpp, LM Studio)."""
    cheap_provider: Provider | None = None
    """Overrides `provider` for the cheap tier (e.g. a local model plans, Claude synthesizes)."""
    premium_provider: Provider | None = None
    """Overrides `provider` for the premium tier."""
    cheap_model: str = "claude-haiku-5-5"
    """Planning, reranking, follow-up rewriting."""
    premium_model: str = "claude-sonnet-5-5"
    """Synthesis."""
    fallback: Literal["none", "offline"] = "none"
    """When Claude stays unavailable (429/529/5xx/connection after retries): "offline" answers with the
    extractive model instead (the trace says so); "none" stops the run, partial, with stopped_by=error."""
    base_url: str | None = None
    """Messages API endpoint; null = Anthropic's (ANTHROPIC_BASE_URL also works)."""
    openai_base_url: str | None = None
    """OpenAI-compatible endpoint, up to /v1 (e.g. http://localhost:11434/v1 for Ollama); null = OPENAI_BASE_URL,
    else OpenAI's. The key comes from OPENAI_API_KEY, optional for local servers."""
    openai_stream: bool = False
    """Stream OpenAI-compatible replies (Server-Sent Events, usage from the final chunk); same deadline,
    retries and charging as a whole reply."""
    safety_factor: float = Field(default=1.35, ge=1.0, le=4.0)
    """Pre-call token counts (cl100k) × this factor; raised automatically when a reply reports more."""
    max_attempts: int = Field(default=4, ge=1, le=20)
    backoff_base_s: float = Field(default=0.5, gt=0, le=60)
    backoff_cap_s: float = Field(default=8.0, gt=0, le=300)
    read_timeout_s: float = Field(default=60.0, gt=0, le=3600)
    """Bounds each read of a reply; the run's deadline bounds the whole call."""
    extractive_max_sentences: int = Field(default=6, ge=1, le=50)
    prices: dict[str, ModelPrice] = Field(default_factory=lambda: dict(DEFAULT_PRICES))

    def tier_provider(self, tier: Tier) -> Provider | None:
        """The online provider a tier uses; None when it is left to `auto`/`offline`."""
        override = self.cheap_provider if tier == "cheap" else self.premium_provider
        if override is not None:
            return override
        if self.provider == "claude" or self.provider == "openai":
            return self.provider
        return None

    def tier_model(self, tier: Tier) -> str:
        return self.cheap_model if tier == "cheap" else self.premium_model

    @model_validator(mode="after")
    def _priced(self) -> "LLMConfig":
        for tier in ("cheap_model", "premium_model"):
            name = getattr(self, tier)
            if name not in self.prices:
                raise ValueError(
                    f"{tier} '{name}' has no entry in llm.prices (known: {', '.join(sorted(self.prices))}); "
                    "add its input/output/cache_write/cache_read rates in USD per million tokens "
                    "(0 for a local model: its tokens and seconds are still capped)"
                )
        if self.provider in ("auto", "offline") and (self.cheap_provider or self.premium_provider):
            raise ValueError(
                f"llm.cheap_provider/premium_provider need llm.provider claude or openai, not '{self.provider}' "
                "(set provider to the other tier's provider)"
            )
        for tier in TIERS:
            name = self.tier_model(tier)
            if self.tier_provider(tier) == "openai" and name in DEFAULT_PRICES:
                raise ValueError(
                    f"{tier}_model '{name}' is a Claude model but the {tier} tier uses the openai provider; "
                    f"name the endpoint's model (and price it in llm.prices) or set {tier}_provider: claude"
                )
        return self
