"""Builds Quarry's components from Settings, each on first use, and closes what it built.

A component passed in (a shared embedding model, a test's telemetry exporter, an open database,
models talking to a fake server) is used as given and left to its owner to close:

    with Components(settings, embedder=shared_model, telemetry=exporter) as components:
        result = await components.engine.run(ResearchRequest(question="Which team owns Ledgerline?"))
"""

import asyncio
import os
import threading
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from quarry.agent.settings import Settings
from quarry.corpus.blobs import LocalBlobStore, S3BlobStore
from quarry.corpus.db import Database
from quarry.corpus.embed import LocalEmbeddings
from quarry.corpus.filters import Principal
from quarry.corpus.store import DocumentStore, corpus_version
from quarry.errors import AccountNotFound, BlobError, ConfigError, ReadOnlyDatabase, TelemetryUnavailable
from quarry.tools.bm25 import Bm25Search
from quarry.tools.dense import DenseSearch
from quarry.tools.hybrid import HybridRetriever
from quarry.tools.kg import GraphSearch
from quarry.tools.rerank import OfflineReranker

# What retrieval does not need is imported where it is built: the LLM clients and the research graph
# alone cost seconds of start-up that `quarry search` and `quarry ingest` would otherwise pay.
if TYPE_CHECKING:
    from quarry.agent.models import Models
    from quarry.corpus.gc import GcReport
    from quarry.corpus.ingest import Ingestor
    from quarry.graph.engine import Engine
    from quarry.graph.session_store import SessionStore
    from quarry.graph.telemetry import RunExporter
    from quarry.tools.cache import SemanticCache

T = TypeVar("T")


class Components:
    def __init__(
        self,
        settings: Settings,
        environ: Mapping[str, str] | None = None,
        *,
        db: Database | None = None,
        embedder: LocalEmbeddings | None = None,
        models: "Models | None" = None,
        telemetry: "RunExporter | None" = None,
    ) -> None:
        self.settings = settings
        self.environ = os.environ if environ is None else environ
        _refuse_unavailable_options(settings)
        given = {"db": db, "embedder": embedder, "models": models, "telemetry": telemetry}
        self._parts: dict[str, Any] = {name: part for name, part in given.items() if part is not None}
        self._given = frozenset(self._parts)
        self._lock = threading.RLock()  # two threads asking for the engine at once build it once

    def _once(self, name: str, build: Callable[[], T]) -> T:
        with self._lock:
            if name not in self._parts:
                self._parts[name] = build()
            return cast(T, self._parts[name])

    def _built(self, name: str) -> Any:
        """The part if this object built it (and so must close it), else None."""
        return self._parts.get(name) if name not in self._given else None

    @property
    def db(self) -> Database:
        return self._once(
            "db", lambda: Database.open(self.settings.database, self.settings.embedding, self.settings.data_dir)
        )

    @property
    def embedder(self) -> LocalEmbeddings:
        return self._once("embedder", lambda: LocalEmbeddings(self.settings.embedding))

    @property
    def store(self) -> DocumentStore:
        return self._once("store", lambda: DocumentStore(self.db))

    @property
    def ingestor(self) -> "Ingestor":
        from quarry.agent.lifecycle import forget
        from quarry.corpus.entities import OfflineExtractor
        from quarry.corpus.ingest import Ingestor

        return self._once(
            "ingestor",
            lambda: Ingestor(
                self.store,
                self.embedder,
                self.settings.chunking,
                max_document_bytes=self.settings.ingest.max_document_bytes,
                extractor=OfflineExtractor(self.settings.entities.gazetteer),
                blobs=self.blobs,
                max_asset_bytes=self.settings.ingest.max_asset_bytes,
                on_removed=lambda removed: forget(self.cache, removed),
            ),
        )

    @property
    def blobs(self) -> LocalBlobStore | S3BlobStore:
        return self._once("blobs", self._build_blobs)

    def _build_blobs(self) -> LocalBlobStore | S3BlobStore:
        storage = self.settings.storage
        if storage.blob_store == "s3":
            try:
                return S3BlobStore(
                    storage.s3_bucket or "", prefix=storage.s3_prefix, endpoint_url=storage.s3_endpoint_url
                )
            except BlobError as exc:
                raise ConfigError(str(exc)) from None
        return LocalBlobStore(self.settings.data_dir / "blobs")

    def collect_garbage(self, *, grace_seconds: float | None = None, dry_run: bool = False) -> "GcReport":
        from quarry.corpus.gc import collect_garbage

        grace = self.settings.ingest.gc_grace_seconds if grace_seconds is None else grace_seconds
        return collect_garbage(self.db, self.blobs, grace_seconds=grace, dry_run=dry_run)

    @property
    def dense(self) -> DenseSearch:
        return self._once("dense", lambda: DenseSearch(self.db, self.settings.retrieval.dense))

    @property
    def bm25(self) -> Bm25Search:
        return self._once(
            "bm25",
            lambda: Bm25Search(self.db, self.settings.retrieval.bm25, self.settings.data_dir / "cache" / "bm25"),
        )

    @property
    def reranker(self) -> OfflineReranker:
        return self._once("reranker", lambda: OfflineReranker(self.db, self.settings.retrieval.rerank))

    @property
    def graph(self) -> GraphSearch:
        return self._once("graph", lambda: GraphSearch(self.db, self.settings.retrieval.graph))

    @property
    def retriever(self) -> HybridRetriever:
        return self._once(
            "retriever",
            lambda: HybridRetriever(
                self.embedder,
                self.dense,
                self.bm25,
                self.settings.retrieval,
                graph=self.graph,
                reranker=self.reranker,
            ),
        )

    @property
    def cache(self) -> "SemanticCache":
        from quarry.tools.cache import SemanticCache

        return self._once("cache", lambda: SemanticCache(self.db, self.settings.cache))

    @property
    def sessions(self) -> "SessionStore":
        """The chat sessions (the engine reads and extends them; `Assistant.chat` creates them)."""
        from quarry.graph.session_store import SessionStore

        return self._once("sessions", lambda: SessionStore(self.db))

    @property
    def telemetry(self) -> "RunExporter | None":
        return self._once("telemetry", self._build_telemetry)

    def _build_telemetry(self) -> "RunExporter | None":
        from quarry.graph.telemetry import RunExporter

        try:
            return RunExporter.from_config(self.settings.telemetry)
        except TelemetryUnavailable as exc:
            raise ConfigError(str(exc)) from None

    @property
    def models(self) -> "Models":
        return self._once("models", self._build_models)

    def _build_models(self) -> "Models":
        from quarry.agent.models import build_models

        models = build_models(self.settings.llm, self.environ)
        if self.settings.retrieval.rerank.model == "claude" and not models.online:
            raise ConfigError("retrieval.rerank.model 'claude' needs Claude: set ANTHROPIC_API_KEY, or use 'offline'")
        return models

    @property
    def engine(self) -> "Engine":
        """The research engine over these components; building it loads no model yet but opens the database."""
        return self._once("engine", self._build_engine)

    @property
    def engine_built(self) -> bool:
        """Whether `engine` has been built (so there are model clients to close)."""
        return "engine" in self._parts

    def _build_engine(self) -> "Engine":
        if self.db.read_only:  # every run is recorded in the ledger
            raise ReadOnlyDatabase(self.db.read_only_refusal("asking a question (every run is recorded)"))
        from quarry.corpus.assets import AssetIndex
        from quarry.graph.budget.account import Accounts
        from quarry.graph.budget.ledger import PostgresLedger
        from quarry.graph.engine import Engine

        models = self.models
        ledger = PostgresLedger(self.db)
        ledger.abandon_stale()  # rows of runs whose process died before closing them
        accounts = Accounts(self.db)
        if self.settings.research.account is not None:
            try:
                accounts.state(self.settings.research.account)
            except AccountNotFound as exc:
                raise ConfigError(f"research.account: {exc}") from None
        rerank = self.settings.retrieval.rerank
        return Engine(
            retriever=self.retriever,
            embedder=self.embedder,
            cheap=models.cheap,
            premium=models.premium,
            ledger=ledger,
            config=self.settings.research,
            corpus_version=lambda: corpus_version(self.db),
            sessions=self.sessions,
            reranker=self.reranker if rerank.enabled else None,
            llm_rerank=rerank.enabled and rerank.model == "claude",
            cache=self.cache if self.settings.cache.enabled else None,
            telemetry=self.telemetry,
            assets=AssetIndex(self.db, self.blobs),
            accounts=accounts,
            fallback=models.fallback,
        )

    def warm_up(self, principal: Principal | None = None) -> float:
        """Open the database, build the engine, and load the embedding model, the tokenizer and the
        indexes a search by `principal` reads (BM25, the knowledge graph and its reader view), so a
        run's deadline is spent on its question rather than on start-up. Returns the seconds taken.

        The probe search passes its own vector: it embeds nothing through the embedder (whose first
        query a test may have armed a fault on) and writes nothing."""
        from quarry.corpus.tokens import count_tokens

        started = time.perf_counter()
        self.engine  # noqa: B018 (building it opens the database and the model clients)
        self.embedder.load()
        count_tokens("warm up")
        probe = [1.0] + [0.0] * (self.settings.embedding.dimension - 1)
        reader = principal or Principal()
        asyncio.run(self.retriever.aretrieve("warm up", principal=reader, k=1, query_vector=probe))
        return time.perf_counter() - started

    def close(self) -> None:
        """Shut down what this object built (the telemetry exporter, the database pool); not what was given."""
        exporter = self._built("telemetry")
        if exporter is not None:
            exporter.shutdown()
        db = self._built("db")
        if db is not None:
            db.close()

    def __enter__(self) -> "Components":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _refuse_unavailable_options(settings: Settings) -> None:
    """Claude-backed extraction at ingest has no run budget to spend through yet; asking for it is an
    error rather than a silent fallback."""
    if settings.entities.extractor != "offline":
        raise ConfigError(
            f"entities.extractor '{settings.entities.extractor}' is not available yet "
            "(it needs the research loop's budget); use 'offline'"
        )
