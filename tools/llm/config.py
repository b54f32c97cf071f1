"""Settings for the models: which provider, which Claude model per tier, prices, retries."""

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


class LLMConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    provider: Literal["auto", "claude", "offline"] = "auto"
    """auto: Claude when ANTHROPIC_API_KEY is set, else the offline extractive model."""
    cheap_model: str = "claude-haiku-5-5"
    """Planning and reranking."""
    premium_model: str = "claude-sonnet-5-5"
    """Synthesis."""
    fallback: Literal["none", "offline"] = "none"
    """When Claude stays unavailable (429/529/5xx/connection after retries): "offline" answers with the
    extractive model instead (the trace says so); "none" stops the run, partial, with stopped_by=error."""
    base_url: str | None = None
    """Messages API endpoint; null = Anthropic's (ANTHROPIC_BASE_URL also works)."""
    safety_factor: float = Field(default=1.35, ge=1.0, le=4.0)
    """Pre-call token counts (cl100k) × this factor; raised automatically when a reply reports more."""
    max_attempts: int = Field(default=4, ge=1, le=20)
    backoff_base_s: float = Field(default=0.5, gt=0, le=60)
    backoff_cap_s: float = Field(default=8.0, gt=0, le=300)
    read_timeout_s: float = Field(default=60.0, gt=0, le=3600)
    """Bounds each read of a reply; the run's deadline bounds the whole call."""
    extractive_max_sentences: int = Field(default=6, ge=1, le=50)
    prices: dict[str, ModelPrice] = Field(default_factory=lambda: dict(DEFAULT_PRICES))

    @model_validator(mode="after")
    def _priced(self) -> "LLMConfig":
        for tier in ("cheap_model", "premium_model"):
            name = getattr(self, tier)
            if name not in self.prices:
                raise ValueError(
                    f"{tier} '{name}' has no entry in llm.prices (known: {', '.join(sorted(self.prices))}); "
                    "add its input/output/cache_write/cache_read rates in USD per million tokens"
                )
        return self
