"""Per-model token prices (USD per million tokens) and what a call costs or could cost."""

from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field

MAX_RATE = 10_000.0
"""USD per million tokens no model charges: a price above it is a typo (per token instead of per million)."""


class Rates(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    input: float = Field(ge=0, le=MAX_RATE)
    output: float = Field(ge=0, le=MAX_RATE)
    cache_write: float = Field(default=0.0, ge=0, le=MAX_RATE)
    cache_read: float = Field(default=0.0, ge=0, le=MAX_RATE)

    @property
    def dearest_input(self) -> float:
        return max(self.input, self.cache_write, self.cache_read)


class LongPromptRates(Rates):
    """Rates that apply to every token of a request whose prompt exceeds `threshold_tokens`."""

    threshold_tokens: int = Field(gt=0, le=100_000_000)


class ModelPrice(Rates):
    """What a model costs, and how far its tokenizer is from the cl100k count Quarry makes before a call."""

    long_prompt: LongPromptRates | None = None
    safety_factor: float | None = Field(default=None, ge=1.0, le=4.0)
    """Pre-call cl100k counts × this for this model (null: llm.safety_factor); raised from observed usage."""

    def rates_for(self, prompt_tokens: int) -> Rates:
        if self.long_prompt is not None and prompt_tokens > self.long_prompt.threshold_tokens:
            return self.long_prompt
        return self


FREE = ModelPrice(input=0.0, output=0.0)


@dataclass(frozen=True)
class Usage:
    """Tokens a call used, as the API (or our own count, offline) reports them."""

    input_tokens: int = 0
    output_tokens: int = 0
    cache_write_tokens: int = 0
    cache_read_tokens: int = 0

    @property
    def prompt_tokens(self) -> int:
        return self.input_tokens + self.cache_write_tokens + self.cache_read_tokens

    @property
    def total(self) -> int:
        return self.prompt_tokens + self.output_tokens


def cost_usd(price: ModelPrice, usage: Usage) -> float:
    rates = price.rates_for(usage.prompt_tokens)
    return (
        usage.input_tokens * rates.input
        + usage.output_tokens * rates.output
        + usage.cache_write_tokens * rates.cache_write
        + usage.cache_read_tokens * rates.cache_read
    ) / 1_000_000


def worst_case_usd(price: ModelPrice, input_tokens: int, max_tokens: int) -> float:
    """The most a call can cost: every input token billed at the dearest input rate of the tier its
    prompt size falls in, and the full max_tokens out."""
    rates = price.rates_for(input_tokens)
    return (input_tokens * rates.dearest_input + max_tokens * rates.output) / 1_000_000


def affordable_output(price: ModelPrice, input_tokens: int, usd: float) -> int:
    """The most output tokens `usd` pays for after the worst-case input cost."""
    rates = price.rates_for(input_tokens)
    if rates.output == 0:
        return 2**31
    left = usd * 1_000_000 - input_tokens * rates.dearest_input
    return max(0, int(left / rates.output))
