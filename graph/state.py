"""The research loop's typed state. Fields written by parallel branches carry reducers."""

import operator
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Annotated, NotRequired, TypedDict

from quarry.corpus.filters import Principal, SearchFilters
from quarry.graph.answer import Answer
from quarry.graph.budget.limits import StopReason
from quarry.graph.budget.spend import Spend
from quarry.graph.trace import Span
from quarry.tools.cache import CacheHit
from quarry.tools.citations import CitationCheck
from quarry.tools.fusion import FusedHit, RetrieverRank
from quarry.tools.hits import Hit
from quarry.tools.llm.base import Turn
from quarry.tools.question_parts import Part


@dataclass(frozen=True)
class Stop:
    reason: StopReason
    detail: str


def first_stop(left: Stop | None, right: Stop | None) -> Stop | None:
    """Reducer: the first limit that stopped the run is the one reported, even if branches hit others."""
    return left if left is not None else right


@dataclass(frozen=True)
class SearchResult:
    """One sub-query's fused candidates (not yet reranked)."""

    query: str
    hop: int
    vector: tuple[float, ...]
    candidates: tuple[FusedHit, ...]
    paths: Mapping[int, tuple[str, ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class Evidence:
    """A chunk kept as evidence, with its provenance; `marker` is stable for the whole run."""

    marker: int
    hit: Hit
    score: float
    query: str
    hop: int
    found_by: Mapping[str, RetrieverRank]
    path: tuple[str, ...] = ()
    tokens: int = 0


@dataclass(frozen=True)
class Draft:
    check: CitationCheck
    """The answer's sentences with their verified citation markers."""
    shown: tuple[int, ...]
    """Markers of the evidence the model was given for this draft."""
    model: str
    hop: int


class InputState(TypedDict):
    question: str
    """Replaced by its standalone form when a chat follow-up is resolved against `history`."""
    principal: Principal
    filters: SearchFilters
    history: NotRequired[list[Turn]]
    """Earlier turns of a chat session, oldest first."""


class State(InputState, total=False):
    asked_as: str
    """The question as the user typed it, when contextualize rewrote it."""
    question_vector: tuple[float, ...]
    """The question's embedding (the semantic cache's key)."""
    cached: CacheHit | None
    """A cached answer to serve instead of researching."""
    parts: tuple[Part, ...]
    """The question's clauses, each tracked until a cited sentence answers it."""
    open_parts: tuple[Part, ...]
    """The parts the latest draft leaves unanswered (all of them before a draft)."""
    sub_queries: list[str]
    """This hop's searches."""
    asked: list[str]
    """Every search run so far."""
    hop: int
    """Search rounds started; never exceeds max_hops."""
    searches: Annotated[list[SearchResult], operator.add]
    evidence: list[Evidence]
    draft: Draft | None
    gaps: list[str]
    """What the latest draft says is still missing, as search queries."""
    spend: Annotated[Spend, Spend.merge]
    trace: Annotated[list[Span], operator.add]
    stop: Annotated[Stop | None, first_stop]
    answer: Answer


class OutputState(TypedDict):
    answer: Answer
    trace: list[Span]


class SearchTask(TypedDict):
    """What one parallel search branch receives (LangGraph `Send`)."""

    query: str
    hop: int
    principal: Principal
    filters: SearchFilters
