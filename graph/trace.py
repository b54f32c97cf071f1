"""Spans: what each node did, when, at what cost, and how much of its time was its own overhead.

A node notes what it worked on (`note_inputs`), what it found (`note_hits`, with each hit's rank
in every retriever that found it) and what it decided (`note`); the guard puts these in its span."""

import contextvars
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from quarry.graph.budget.spend import Spend
from quarry.records import SpanRecord

SpanOutcome = Literal["ok", "skipped", "stopped", "failed"]


@dataclass(frozen=True, kw_only=True, slots=True)
class SpanHit:
    """A passage a node found or kept, and where each retriever ranked it (1 = best)."""

    document_id: str
    chunk_id: int
    title: str
    score: float
    ranks: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True, slots=True)
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
    inputs: str = ""
    """What the node worked on, in brief (the query it searched, the passages it read)."""
    hits: tuple[SpanHit, ...] = ()

    @property
    def overhead_ms(self) -> float:
        """The node's own time: graph plumbing, guard, prompt building, parsing."""
        return max(0.0, self.ms - self.model_ms - self.retrieval_ms)

    def dump(self) -> dict[str, Any]:
        """The span as JSON types (a SpanRecord, with its schema_version), as the ledger stores it."""
        return SpanRecord.model_validate(asdict(self)).dump()

    @classmethod
    def load(cls, data: "SpanRecord | Mapping[str, Any]") -> "Span":
        """A span from its JSON (validated: a malformed or newer record raises ValidationError)."""
        record = data if isinstance(data, SpanRecord) else SpanRecord.model_validate(data)
        fields = {name: value for name, value in record if name not in ("schema_version", "hits")}
        return cls(**fields, hits=tuple(SpanHit(**dict(h)) for h in record.hits))


@dataclass
class SpanClock:
    """Accumulates a node's time in model calls and retrieval, and its spend; shared by its concurrent tasks."""

    model_ms: float = 0.0
    retrieval_ms: float = 0.0
    spend: Spend = field(default_factory=Spend)
    """Every call's spend, including calls that failed after being charged (the guard records it)."""
    inputs: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    hits: list[SpanHit] = field(default_factory=list)


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


def note_inputs(text: str) -> None:
    clock = current_clock.get()
    if clock is not None:
        clock.inputs.append(text)


def note(text: str) -> None:
    clock = current_clock.get()
    if clock is not None:
        clock.notes.append(text)


def note_hits(hits: "list[SpanHit]") -> None:
    clock = current_clock.get()
    if clock is not None:
        clock.hits.extend(hits)
