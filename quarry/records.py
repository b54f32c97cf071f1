"""Boundary records: the JSON Quarry writes for another process, or a later version, to read back.

The answer (`AnswerRecord`: what `quarry ask --json` prints, what the semantic cache and chat turns
store, the run ledger's `result`, the HTTP API's body) and a run's trace spans (`SpanRecord`: the
ledger's `trace`). Each is one pydantic model with a `schema_version`; the value types dump to and
load from them (`Answer.dump()` / `Answer.load()`, `Span.dump()` / `Span.load()`), and every reader
validates through them instead of reading string keys. Records written before versioning are
version 1. Like quarry.errors, this module imports nothing from Quarry's layers, so every layer
(the cache in tools, the engine in graph, the front doors in agent) shares it.
"""

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = [
    "ANSWER_SCHEMA_VERSION",
    "SPAN_SCHEMA_VERSION",
    "AnswerRecord",
    "CitationCheckRecord",
    "CitationRecord",
    "ImageRecord",
    "NodeSpendRecord",
    "SpanHitRecord",
    "SpanRecord",
    "SpendRecord",
    "StopReason",
]

StopReason = Literal["deadline", "hops", "tokens", "cost", "account", "error"]
"""Why a run stopped early: a limit of its own, the shared account's cap ("account"), or "error" when a
model failed for good (the run still answers)."""

ANSWER_SCHEMA_VERSION: Literal[1] = 1
SPAN_SCHEMA_VERSION: Literal[1] = 1


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    def dump(self) -> dict[str, Any]:
        """Plain JSON types, in field order."""
        return self.model_dump(mode="json")


class ImageRecord(_Record):
    name: str
    mime: str
    blob_key: str
    path: str
    width: int
    height: int


class CitationRecord(_Record):
    number: int
    document_id: str
    chunk_id: int
    title: str
    source: str
    start_char: int
    end_char: int
    text: str
    support: float
    image: ImageRecord | None = None
    page: int | None = None
    """PDF: the page the cited passage starts on (from 1); page_end the page it ends on."""
    page_end: int | None = None
    section: str | None = None
    """HTML/Word: the heading path of the cited passage's section."""
    quote_start: int
    """Document offsets of the supporting sentence(s), inside [start_char, end_char]."""
    quote_end: int
    quote: str
    """The document's text at [quote_start, quote_end]."""

    @model_validator(mode="before")
    @classmethod
    def _quote_defaults_to_chunk(cls, data: Any) -> Any:
        """Records written before sentence-level citations quote the whole chunk."""
        if isinstance(data, dict) and "quote_start" not in data:
            return {
                **data,
                "quote_start": data.get("start_char"),
                "quote_end": data.get("end_char"),
                "quote": data.get("text"),
            }
        return data


class NodeSpendRecord(_Record):
    input_tokens: int = 0
    output_tokens: int = 0
    usd: float = 0.0
    calls: int = 0


class SpendRecord(_Record):
    usd: float
    input_tokens: int
    output_tokens: int
    llm_calls: int
    by_node: dict[str, NodeSpendRecord] = Field(default_factory=dict)


class CitationCheckRecord(_Record):
    kept: int = 0
    unresolved: int = 0
    unsupported: int = 0
    flagged_sentences: int = 0


class AnswerRecord(_Record):
    """An answer as JSON. Fields a reader may meet missing in records stored by older versions have
    defaults."""

    schema_version: Literal[1] = ANSWER_SCHEMA_VERSION
    question: str
    asked_as: str = ""
    answer: str
    citations: list[CitationRecord]
    partial: bool
    stopped_by: StopReason | None
    stop_detail: str = ""
    hops: int
    gaps: list[str] = Field(default_factory=list)
    spend: SpendRecord
    citation_check: CitationCheckRecord = CitationCheckRecord()
    unsupported_sentences: list[str] = Field(default_factory=list)
    model: str = ""
    evidence_sources: list[str] = Field(default_factory=list)
    cache_hit: bool = False
    saved_usd: float = 0.0
    cached_from: str = ""
    answered: bool | Literal["partly"] = True
    """Whether the cited answer answers the question (records from before the field: True)."""
    unanswered: list[str] = Field(default_factory=list)
    """The parts of the question still open."""
    searched: bool = True
    """False when the run stopped before any search (stop_detail says why)."""
    run_id: str
    elapsed_s: float


class SpanHitRecord(_Record):
    document_id: str
    chunk_id: int
    title: str
    score: float
    ranks: dict[str, int] = Field(default_factory=dict)


class SpanRecord(_Record):
    """One node's span in a run's trace."""

    schema_version: Literal[1] = SPAN_SCHEMA_VERSION
    node: str
    start_ms: float
    ms: float
    outcome: Literal["ok", "skipped", "stopped", "failed"]
    detail: str = ""
    tokens: int = 0
    usd: float = 0.0
    model_ms: float = 0.0
    retrieval_ms: float = 0.0
    inputs: str = ""
    hits: list[SpanHitRecord] = Field(default_factory=list)
