"""Spans: what each node did, when, at what cost, and how much of its time was its own overhead."""

import contextvars
from dataclasses import dataclass, field
from typing import Literal

from graph.budget.spend import Spend

SpanOutcome = Literal["ok", "skipped", "stopped", "failed"]


@dataclass(frozen=True)
class Span:
    node: str
    start_ms: float
    """Since the run started."""
    ms: float
    outcome: SpanOutcome
    detail: str = ""
    tokens: int = 0
    usd: float = 0.0
    model_ms: float = 0.0
    """Time inside model calls (including their retries and ledger rows)."""
    retrieval_ms: float = 0.0

    @property
    def overhead_ms(self) -> float:
        """The node's own time: graph plumbing, guard, prompt building, parsing."""
        return max(0.0, self.ms - self.model_ms - self.retrieval_ms)


@dataclass
class SpanClock:
    """Accumulates a node's time in model calls and retrieval, and its spend; shared by its concurrent tasks."""

    model_ms: float = 0.0
    retrieval_ms: float = 0.0
    spend: Spend = field(default_factory=Spend)
    """Every call's spend, including calls that failed after being charged (the guard records it)."""


current_clock: contextvars.ContextVar[SpanClock | None] = contextvars.ContextVar("quarry_span_clock", default=None)


def add_model_ms(ms: float) -> None:
    clock = current_clock.get()
    if clock is not None:
        clock.model_ms += ms


def add_spend(spend: Spend) -> None:
    clock = current_clock.get()
    if clock is not None:
        clock.spend = Spend.merge(clock.spend, spend)


def add_retrieval_ms(ms: float) -> None:
    clock = current_clock.get()
    if clock is not None:
        clock.retrieval_ms += ms
