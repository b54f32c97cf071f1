"""What a run returns: the answer, its verified citations, whether it is partial and why, and its cost.

As JSON it is an `AnswerRecord` (quarry.records): `Answer.dump()` writes it and `Answer.load()` reads
it back, validated, for every reader (`quarry ask --json`, the semantic cache, chat turns, the ledger).
"""

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from types import MappingProxyType
from typing import Any

from quarry.graph.budget.limits import StopReason
from quarry.graph.budget.spend import NodeSpend, Spend
from quarry.graph.outcome import Answered
from quarry.records import (
    AnswerRecord,
    CitationCheckRecord,
    CitationRecord,
    NodeSpendRecord,
    SpendRecord,
)


@dataclass(frozen=True, kw_only=True, slots=True)
class ImageRef:
    """The image a citation points at, when the cited passage is an image's caption."""

    name: str
    """As the document refers to it."""
    mime: str
    blob_key: str
    path: str
    """Where to open it (the blob store's file path or URL)."""
    width: int
    height: int


@dataclass(frozen=True, kw_only=True, slots=True)
class Citation:
    number: int
    """The [number] used in the answer text."""
    document_id: str
    chunk_id: int
    title: str
    source: str
    start_char: int
    end_char: int
    text: str
    support: float
    """Share of the citing sentence's content words the passage contains."""
    image: ImageRef | None = None
    quote_start: int = -1
    """Document offsets of the supporting sentence(s), inside [start_char, end_char]; not given: the chunk."""
    quote_end: int = -1
    quote: str = ""
    """The document's text at [quote_start, quote_end]."""

    def __post_init__(self) -> None:
        if self.quote_start < 0 or self.quote_end < self.quote_start:
            object.__setattr__(self, "quote_start", self.start_char)
            object.__setattr__(self, "quote_end", self.end_char)
            object.__setattr__(self, "quote", self.text)

    page: int | None = None
    """PDF: the page the passage starts on (from 1); `page_end` the page it ends on."""
    page_end: int | None = None
    section: str | None = None
    """HTML/Word: the heading path of the passage's section (`Methods › Sampling`)."""

    def location(self) -> str:
        """Where a reader finds the passage: "p. 14", "pp. 14–15", "§ Methods › Sampling", else the quoted sentence's "chars 10-80"."""
        if self.page is not None:
            last = self.page_end or self.page
            return f"p. {self.page}" if last == self.page else f"pp. {self.page}–{last}"
        if self.section:
            return f"§ {self.section}"
        return f"chars {self.quote_start}-{self.quote_end}"

    def record(self) -> CitationRecord:
        return CitationRecord.model_validate(asdict(self))

    @classmethod
    def load(cls, data: "CitationRecord | Mapping[str, Any]") -> "Citation":
        record = data if isinstance(data, CitationRecord) else CitationRecord.model_validate(data)
        image = record.image
        return cls(
            **{name: value for name, value in record if name != "image"},
            image=ImageRef(**dict(image)) if image is not None else None,
        )


@dataclass(frozen=True, kw_only=True, slots=True)
class CitationStats:
    kept: int = 0
    unresolved: int = 0
    """Markers that named no passage the model was shown: dropped."""
    unsupported: int = 0
    """Markers whose passage did not support the sentence: dropped."""
    flagged_sentences: int = 0
    """Sentences whose every citation was dropped; kept in the text, listed in `unsupported_sentences`."""


@dataclass(frozen=True, kw_only=True, slots=True)
class Answer:
    question: str
    text: str
    citations: tuple[Citation, ...]
    partial: bool
    stopped_by: StopReason | None
    stop_detail: str
    hops: int
    spend: Spend
    run_id: str
    elapsed_s: float
    gaps: tuple[str, ...] = ()
    citation_stats: CitationStats = CitationStats()
    unsupported_sentences: tuple[str, ...] = ()
    model: str = ""
    """The model that drafted the answer ("" when no draft was made)."""
    asked_as: str = ""
    """The question as typed, when it was a chat follow-up rewritten into `question`."""
    evidence_sources: tuple[str, ...] = ()
    """Document ids of every passage kept as evidence (cited or not), best first."""
    cache_hit: bool = False
    """Served from the semantic cache: no model was called."""
    saved_usd: float = 0.0
    """On a cache hit, what the run that built the answer cost."""
    cached_from: str = ""
    """On a cache hit, the run that built the answer."""
    answered: Answered = False
    """Whether the cited answer answers the question: True, "partly" or False (see graph/outcome.py)."""
    unanswered: tuple[str, ...] = ()
    """The parts of the question still open."""
    searched: bool = True
    """False when the run stopped before any search (`stop_detail` says why)."""

    def to_markdown(self) -> str:
        """A report: question, answer, numbered sources with locations and quoted sentences, budget line."""
        from quarry.graph.report import markdown_report

        return markdown_report(self)

    def record(self) -> AnswerRecord:
        total = self.spend.total()
        return AnswerRecord(
            question=self.question,
            asked_as=self.asked_as,
            answer=self.text,
            citations=[c.record() for c in self.citations],
            partial=self.partial,
            stopped_by=self.stopped_by,
            stop_detail=self.stop_detail,
            hops=self.hops,
            gaps=list(self.gaps),
            spend=SpendRecord(
                usd=total.usd,
                input_tokens=total.input_tokens,
                output_tokens=total.output_tokens,
                llm_calls=total.calls,
                by_node={node: NodeSpendRecord(**asdict(s)) for node, s in self.spend.by_node.items()},
            ),
            citation_check=CitationCheckRecord(**asdict(self.citation_stats)),
            unsupported_sentences=list(self.unsupported_sentences),
            model=self.model,
            evidence_sources=list(self.evidence_sources),
            cache_hit=self.cache_hit,
            saved_usd=self.saved_usd,
            cached_from=self.cached_from,
            answered=self.answered,
            unanswered=list(self.unanswered),
            searched=self.searched,
            run_id=self.run_id,
            elapsed_s=round(self.elapsed_s, 4),
        )

    def dump(self) -> dict[str, Any]:
        """The answer as JSON types (an AnswerRecord, with its schema_version)."""
        return self.record().dump()

    @classmethod
    def load(cls, data: "AnswerRecord | Mapping[str, Any]") -> "Answer":
        """An answer from its JSON (validated: a malformed or newer record raises ValidationError)."""
        record = data if isinstance(data, AnswerRecord) else AnswerRecord.model_validate(data)
        return cls(
            question=record.question,
            text=record.answer,
            citations=tuple(Citation.load(c) for c in record.citations),
            partial=record.partial,
            stopped_by=record.stopped_by,
            stop_detail=record.stop_detail,
            hops=record.hops,
            spend=Spend(MappingProxyType({node: NodeSpend(**dict(s)) for node, s in record.spend.by_node.items()})),
            run_id=record.run_id,
            elapsed_s=record.elapsed_s,
            gaps=tuple(record.gaps),
            citation_stats=CitationStats(**dict(record.citation_check)),
            unsupported_sentences=tuple(record.unsupported_sentences),
            model=record.model,
            asked_as=record.asked_as,
            evidence_sources=tuple(record.evidence_sources),
            cache_hit=record.cache_hit,
            saved_usd=record.saved_usd,
            cached_from=record.cached_from,
            answered=record.answered,
            unanswered=tuple(record.unanswered),
            searched=record.searched,
        )
