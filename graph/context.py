"""What nodes reach through `runtime.context`: the run's budget pool and the process's services."""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from quarry.corpus.assets import StoredAsset
from quarry.corpus.filters import Principal, SearchFilters
from quarry.graph.budget.account import Accounts
from quarry.graph.budget.ledger import Ledger
from quarry.graph.budget.pool import BudgetPool
from quarry.graph.config import ResearchConfig
from quarry.graph.events import BudgetLeft, RunEvent
from quarry.graph.telemetry import FinishedRun
from quarry.tools.cache import SemanticCache
from quarry.tools.fusion import FusedHit
from quarry.tools.hybrid import Retrieval
from quarry.tools.llm.base import ChatModel
from quarry.tools.rerank import RerankedHit


class CaptionImages(Protocol):
    def for_chunks(self, chunk_ids: Sequence[int]) -> "dict[int, StoredAsset]": ...


class TraceExporter(Protocol):
    def export(self, run: FinishedRun) -> None: ...


class Retriever(Protocol):
    async def aretrieve(
        self,
        query: str,
        *,
        principal: Principal,
        filters: SearchFilters | None = None,
        k: int | None = None,
        rerank: bool | None = None,
        query_vector: Sequence[float] | None = None,
    ) -> Retrieval: ...


class QueryEmbedder(Protocol):
    @property
    def model_name(self) -> str: ...

    def embed_query(self, text: str) -> list[float]: ...


class CandidateReranker(Protocol):
    def rerank(
        self, query: str, query_vector: Sequence[float], candidates: Sequence[FusedHit], keep: int
    ) -> list[RerankedHit]: ...


@dataclass(frozen=True)
class Services:
    """The components an `Engine` was built with (graph/engine.py), shared by every run it makes; nodes
    reach them as `runtime.context.services`."""

    retriever: Retriever
    embedder: QueryEmbedder
    cheap: ChatModel
    """Plans, and reranks when `llm_rerank` is on."""
    premium: ChatModel
    """Synthesizes."""
    ledger: Ledger
    config: ResearchConfig
    reranker: CandidateReranker | None = None
    """The offline reranker; used when `llm_rerank` is off."""
    llm_rerank: bool = False
    cache: SemanticCache | None = None
    """The semantic cache; None when disabled."""
    assets: CaptionImages | None = None
    """Finds the image behind a cited caption chunk; None when the corpus has no blob store."""
    telemetry: TraceExporter | None = None
    """Sends every finished run's trace on (OpenTelemetry); None when not configured."""
    fallback: ChatModel | None = None
    """Answers in Claude's place when Claude stays unavailable (llm.fallback: offline); None: such a run
    stops, partial, with stopped_by=error."""
    accounts: Accounts | None = None
    """Where `config.account` is held and settled; None when runs charge no shared account."""


@dataclass(frozen=True)
class RunContext:
    run_id: str
    pool: BudgetPool
    services: Services
    corpus_version: int = 0
    """The corpus version when the run started (the cache's key and the trace's)."""
    use_cache: bool = True
    """False: neither served from nor stored in the semantic cache (fresh research)."""
    emit: Callable[[RunEvent], None] | None = None
    """Hears events the graph's own stream cannot carry (a node starting, text as it is written)."""
    stream_text: bool = False
    """Synthesis streams its text to `emit` as TextDelta events when the model can stream."""

    def left(self, hop: int) -> BudgetLeft:
        remaining = self.pool.remaining()
        return BudgetLeft(remaining.seconds, remaining.tokens, remaining.usd, max(0, self.pool.limits.max_hops - hop))
