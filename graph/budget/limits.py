"""What a run may spend, and the names of the limits that can stop it."""

from pydantic import BaseModel, ConfigDict, Field, model_validator

from quarry.records import StopReason as StopReason  # its home is the boundary records

DEFAULT_RESERVE_SECONDS = 0.25
MAX_SECONDS = 86_400
MAX_TOKENS = 100_000_000
MAX_USD = 10_000


class Limits(BaseModel):
    """Ceilings for one run. Finalize's reserve is held back so a stopped run can still answer."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    max_seconds: float = Field(default=60.0, gt=0, le=MAX_SECONDS)
    max_hops: int = Field(default=3, ge=1, le=50)
    max_tokens: int = Field(default=50_000, ge=1, le=MAX_TOKENS)
    max_usd: float = Field(default=0.25, ge=0, le=MAX_USD)
    finalize_reserve_seconds: float | None = Field(default=None, ge=0, le=MAX_SECONDS)
    """Time held back for finalize; default min(0.25 s, max_seconds / 4)."""
    finalize_reserve_tokens: int = Field(default=0, ge=0, le=MAX_TOKENS)
    finalize_reserve_usd: float = Field(default=0.0, ge=0, le=MAX_USD)

    @model_validator(mode="after")
    def _reserve_fits(self) -> "Limits":
        if self.finalize_reserve_seconds is not None and self.finalize_reserve_seconds >= self.max_seconds:
            raise ValueError(
                f"finalize_reserve_seconds ({self.finalize_reserve_seconds}) must be below max_seconds ({self.max_seconds})"
            )
        if self.finalize_reserve_tokens > self.max_tokens:
            raise ValueError(
                f"finalize_reserve_tokens ({self.finalize_reserve_tokens}) exceeds max_tokens ({self.max_tokens})"
            )
        if self.finalize_reserve_usd > self.max_usd:
            raise ValueError(f"finalize_reserve_usd ({self.finalize_reserve_usd}) exceeds max_usd ({self.max_usd})")
        return self

    @property
    def reserve_seconds(self) -> float:
        if self.finalize_reserve_seconds is not None:
            return self.finalize_reserve_seconds
        return min(DEFAULT_RESERVE_SECONDS, self.max_seconds / 4)

    def recursion_limit(self) -> int:
        """LangGraph supersteps a run can need: contextualize and plan, search/rerank/synthesize/reflect
        per hop, finalize, and room for the cache nodes. A backstop only; hops are counted in state."""
        return 4 * self.max_hops + 6
