"""Builds Quarry's components from Settings, each on first use, and closes them once."""

import os
from collections.abc import Mapping
from functools import cached_property

from quarry.agent.errors import ConfigError
from quarry.agent.models import Models, build_models
from quarry.agent.settings import Settings
from quarry.corpus.assets import AssetIndex
from quarry.corpus.blobs import BlobError, LocalBlobStore, S3BlobStore
from quarry.corpus.db import Database
from quarry.corpus.embed import LocalEmbeddings
from quarry.corpus.entities import OfflineExtractor
from quarry.corpus.gc import GcReport, collect_garbage
from quarry.corpus.ingest import Ingestor
from quarry.corpus.store import DocumentStore, corpus_version
from quarry.graph.budget.account import Accounts
from quarry.graph.budget.ledger import PostgresLedger
from quarry.graph.context import Services
from quarry.graph.errors import AccountNotFound
from quarry.graph.runner import Researcher
from quarry.graph.telemetry import RunExporter, TelemetryUnavailable
from quarry.tools.bm25 import Bm25Search
from quarry.tools.cache import SemanticCache
from quarry.tools.dense import DenseSearch
from quarry.tools.hybrid import HybridRetriever
from quarry.tools.kg import GraphSearch
from quarry.tools.rerank import OfflineReranker


class Runtime:
    def __init__(self, settings: Settings, environ: Mapping[str, str] | None = None) -> None:
        self.settings = settings
        self.environ = os.environ if environ is None else environ
        _refuse_unavailable_options(settings)

    @cached_property
    def db(self) -> Database:
        return Database.open(self.settings.database, self.settings.embedding, self.settings.data_dir)

    @cached_property
    def embedder(self) -> LocalEmbeddings:
        return LocalEmbeddings(self.settings.embedding)

    @cached_property
    def store(self) -> DocumentStore:
        return DocumentStore(self.db)

    @cached_property
    def ingestor(self) -> Ingestor:
        return Ingestor(
            self.store,
            self.embedder,
            self.settings.chunking,
            max_document_bytes=self.settings.ingest.max_document_bytes,
            extractor=OfflineExtractor(self.settings.entities.gazetteer),
            blobs=self.blobs,
            max_asset_bytes=self.settings.ingest.max_asset_bytes,
        )

    @cached_property
    def blobs(self) -> LocalBlobStore | S3BlobStore:
        storage = self.settings.storage
        if storage.blob_store == "s3":
            try:
                return S3BlobStore(
                    storage.s3_bucket or "", prefix=storage.s3_prefix, endpoint_url=storage.s3_endpoint_url
                )
            except BlobError as exc:
                raise ConfigError(str(exc)) from None
        return LocalBlobStore(self.settings.data_dir / "blobs")

    def collect_garbage(self, *, grace_seconds: float | None = None, dry_run: bool = False) -> GcReport:
        grace = self.settings.ingest.gc_grace_seconds if grace_seconds is None else grace_seconds
        return collect_garbage(self.db, self.blobs, grace_seconds=grace, dry_run=dry_run)

    @cached_property
    def dense(self) -> DenseSearch:
        return DenseSearch(self.db, self.settings.retrieval.dense)

    @cached_property
    def bm25(self) -> Bm25Search:
        return Bm25Search(self.db, self.settings.retrieval.bm25, self.settings.data_dir / "cache" / "bm25")

    @cached_property
    def reranker(self) -> OfflineReranker:
        return OfflineReranker(self.db, self.settings.retrieval.rerank)

    @cached_property
    def retriever(self) -> HybridRetriever:
        return HybridRetriever(
            self.embedder,
            self.dense,
            self.bm25,
            self.settings.retrieval,
            graph=GraphSearch(self.db, self.settings.retrieval.graph),
            reranker=self.reranker,
        )

    @cached_property
    def cache(self) -> SemanticCache:
        return SemanticCache(self.db, self.settings.cache, embed_words=self.embedder.embed_documents)

    @cached_property
    def telemetry(self) -> RunExporter | None:
        try:
            return RunExporter.from_config(self.settings.telemetry)
        except TelemetryUnavailable as exc:
            raise ConfigError(str(exc)) from None

    @cached_property
    def models(self) -> Models:
        models = build_models(self.settings.llm, self.environ)
        if self.settings.retrieval.rerank.model == "claude" and not models.online:
            raise ConfigError("retrieval.rerank.model 'claude' needs Claude: set ANTHROPIC_API_KEY, or use 'offline'")
        return models

    @cached_property
    def researcher(self) -> Researcher:
        models = self.models
        ledger = PostgresLedger(self.db)
        ledger.abandon_stale()  # rows of runs whose process died before closing them
        accounts = Accounts(self.db)
        if self.settings.research.account is not None:
            try:
                accounts.state(self.settings.research.account)
            except AccountNotFound as exc:
                raise ConfigError(f"research.account: {exc}") from None
        services = Services(
            retriever=self.retriever,
            embedder=self.embedder,
            cheap=models.cheap,
            premium=models.premium,
            ledger=ledger,
            config=self.settings.research,
            reranker=self.reranker if self.settings.retrieval.rerank.enabled else None,
            llm_rerank=self.settings.retrieval.rerank.enabled and self.settings.retrieval.rerank.model == "claude",
            cache=self.cache if self.settings.cache.enabled else None,
            telemetry=self.telemetry,
            assets=AssetIndex(self.db, self.blobs),
            accounts=accounts,
            fallback=models.fallback,
        )
        return Researcher(services, lambda: corpus_version(self.db))

    def close(self) -> None:
        exporter = self.__dict__.get("telemetry")
        if exporter is not None:
            exporter.shutdown()
        if "db" in self.__dict__:
            self.db.close()

    def __enter__(self) -> "Runtime":
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
