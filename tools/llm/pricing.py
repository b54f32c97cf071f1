"""Per-model token prices (USD per million tokens) and what a call costs or could cost."""

from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field


class ModelPrice(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    input: float = Field(ge=0)
    output: float = Field(ge=0)
    cache_write: float = Field(default=0.0, ge=0)
    cache_read: float = Field(default=0.0, ge=0)


@dataclass(frozen=True)
class Usage:
    """Tokens a call used, as the API (or our own count, offline) reports them."""

    input_tokens: int = 0
    output_tokens: int = 0
    cache_write_tokens: int = 0
    cache_read_tokens: int = 0

    @property
    def total(self) -> int:
        return self.input_tokens + self.output_tokens + self.cache_write_tokens + self.cache_read_tokens


def cost_usd(price: ModelPrice, usage: Usage) -> float:
    return (
        usage.input_tokens * price.input
        + usage.output_tokens * price.output
        + usage.cache_write_tokens * price.cache_write
        + usage.cache_read_tokens * price.cache_read
    ) / 1_000_000


def worst_case_usd(price: ModelPrice, input_tokens: int, max_tokens: int) -> float:
    """The most a call can cost: every input token billed at the dearest input rate, full max_tokens out."""
    dearest_input = max(price.input, price.cache_write, price.cache_read)
    return (input_tokens * dearest_input + max_tokens * price.output) / 1_000_000
