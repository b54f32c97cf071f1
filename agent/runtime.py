"""Builds Quarry's components from Settings, each on first use, and closes them once."""

from functools import cached_property

from agent.errors import ConfigError
from agent.settings import Settings
from corpus.db import Database
from corpus.embed import LocalEmbeddings
from corpus.entities import OfflineExtractor
from corpus.ingest import Ingestor
from corpus.store import DocumentStore
from tools.bm25 import Bm25Search
from tools.dense import DenseSearch
from tools.hybrid import HybridRetriever
from tools.kg import GraphSearch
from tools.rerank import OfflineReranker


class Runtime:
    def __init__(self, settings: Settings) -> None:
        _refuse_unavailable_options(settings)
        self.settings = settings

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
        )

    @cached_property
    def dense(self) -> DenseSearch:
        return DenseSearch(self.db, self.settings.retrieval.dense)

    @cached_property
    def bm25(self) -> Bm25Search:
        return Bm25Search(self.db, self.settings.retrieval.bm25, self.settings.data_dir / "cache" / "bm25")

    @cached_property
    def retriever(self) -> HybridRetriever:
        return HybridRetriever(
            self.embedder,
            self.dense,
            self.bm25,
            self.settings.retrieval,
            graph=GraphSearch(self.db, self.settings.retrieval.graph),
            reranker=OfflineReranker(self.db, self.settings.retrieval.rerank),
        )

    def close(self) -> None:
        if "db" in self.__dict__:
            self.db.close()

    def __enter__(self) -> "Runtime":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _refuse_unavailable_options(settings: Settings) -> None:
    """Claude-backed reranking and extraction must spend through the run budget, which arrives with the
    research loop; until then, asking for them is an error rather than a silent fallback."""
    if settings.retrieval.rerank.model != "offline":
        raise ConfigError(
            f"retrieval.rerank.model '{settings.retrieval.rerank.model}' is not available yet "
            "(it needs the research loop's budget); use 'offline'"
        )
    if settings.entities.extractor != "offline":
        raise ConfigError(
            f"entities.extractor '{settings.entities.extractor}' is not available yet "
            "(it needs the research loop's budget); use 'offline'"
        )
