"""What a run returns: the answer, its verified citations, whether it is partial and why, and its cost."""

from dataclasses import asdict, dataclass

from quarry.graph.budget.limits import StopReason
from quarry.graph.budget.spend import Spend


@dataclass(frozen=True)
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


@dataclass(frozen=True)
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

    @classmethod
    def from_json(cls, data: dict) -> "Citation":
        image = data.get("image")
        return cls(**{**data, "image": ImageRef(**image) if image else None})


@dataclass(frozen=True)
class CitationStats:
    kept: int = 0
    unresolved: int = 0
    """Markers that named no passage the model was shown: dropped."""
    unsupported: int = 0
    """Markers whose passage did not support the sentence: dropped."""
    flagged_sentences: int = 0
    """Sentences whose every citation was dropped; kept in the text, listed in `unsupported_sentences`."""


@dataclass(frozen=True)
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

    def to_json(self) -> dict:
        total = self.spend.total()
        return {
            "question": self.question,
            "asked_as": self.asked_as,
            "answer": self.text,
            "citations": [asdict(c) for c in self.citations],
            "partial": self.partial,
            "stopped_by": self.stopped_by,
            "stop_detail": self.stop_detail,
            "hops": self.hops,
            "gaps": list(self.gaps),
            "spend": {
                "usd": total.usd,
                "input_tokens": total.input_tokens,
                "output_tokens": total.output_tokens,
                "llm_calls": total.calls,
                "by_node": {node: asdict(s) for node, s in self.spend.by_node.items()},
            },
            "citation_check": asdict(self.citation_stats),
            "unsupported_sentences": list(self.unsupported_sentences),
            "model": self.model,
            "evidence_sources": list(self.evidence_sources),
            "cache_hit": self.cache_hit,
            "saved_usd": self.saved_usd,
            "cached_from": self.cached_from,
            "run_id": self.run_id,
            "elapsed_s": round(self.elapsed_s, 4),
        }
