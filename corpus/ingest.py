"""Ingestion: load → validate → chunk → embed → store, document by document, refusing bad input.

One bad document never stops the batch; each good one commits whole or not at all. Chunks from
several documents are embedded together so small documents do not pay per-call model overhead.
"""

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from langchain_core.embeddings import Embeddings

from corpus.chunking import Chunk, chunk_text
from corpus.config import ChunkingConfig
from corpus.db import StorageError
from corpus.entities import EntityExtractor, OfflineExtractor
from corpus.loaders import Refusal, Skipped, load_paths
from corpus.metadata import SourceDocument
from corpus.store import DocumentStore, WriteOutcome


@dataclass
class IngestReport:
    inserted: list[str] = field(default_factory=list)
    replaced: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    refused: list[Refusal] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    chunks_written: int = 0
    embed_seconds: float = 0.0
    store_seconds: float = 0.0

    @property
    def ingested(self) -> int:
        return len(self.inserted) + len(self.replaced)

    @property
    def ok(self) -> bool:
        return not self.refused

    def summary(self) -> str:
        return (
            f"ingested {self.ingested} ({len(self.inserted)} new, {len(self.replaced)} updated), "
            f"unchanged {len(self.unchanged)}, refused {len(self.refused)}"
            + (f", skipped {len(self.skipped)} non-document files" if self.skipped else "")
            + f"; {self.chunks_written} chunks written"
        )


@dataclass(frozen=True)
class IngestEvent:
    """One document finished (any outcome); for progress displays."""

    label: str
    outcome: str
    """inserted, replaced, unchanged, refused or skipped."""
    detail: str = ""


ProgressCallback = Callable[[IngestEvent], None]


@dataclass
class _Pending:
    document: SourceDocument
    chunks: list[Chunk]


class Ingestor:
    def __init__(
        self,
        store: DocumentStore,
        embedder: Embeddings,
        chunking: ChunkingConfig,
        *,
        max_document_bytes: int = 10_000_000,
        embed_batch_chunks: int = 256,
        extractor: EntityExtractor | None = None,
    ) -> None:
        self.store = store
        self.extractor = extractor or OfflineExtractor()
        self.embedder = embedder
        self.chunking = chunking
        self.max_document_bytes = max_document_bytes
        self.embed_batch_chunks = embed_batch_chunks

    def ingest_paths(
        self, paths: Iterable[Path], *, defaults: dict[str, Any] | None = None, progress: ProgressCallback | None = None
    ) -> IngestReport:
        results = load_paths(paths, defaults=defaults, max_bytes=self.max_document_bytes)
        return self.ingest_documents(results, progress=progress)

    def ingest_documents(
        self, results: Iterable[SourceDocument | Refusal | Skipped], *, progress: ProgressCallback | None = None
    ) -> IngestReport:
        report = IngestReport()
        notify = progress or (lambda event: None)
        seen: dict[str, str] = {}
        pending: list[_Pending] = []
        for result in results:
            if isinstance(result, Skipped):
                report.skipped.append(result.label)
                notify(IngestEvent(result.label, "skipped"))
                continue
            if isinstance(result, Refusal):
                self._refuse(report, notify, result)
                continue
            if result.id in seen:
                self._refuse(report, notify, Refusal(
                    result.label, f"duplicate document id '{result.id}' (also used by '{seen[result.id]}' in this batch)"
                ))
                continue
            seen[result.id] = result.label
            if self.store.stored_hash(result.id) == result.content_hash:
                report.unchanged.append(result.label)
                notify(IngestEvent(result.label, "unchanged"))
                continue
            pending.append(_Pending(result, chunk_text(result.text, self.chunking)))
            if sum(len(p.chunks) for p in pending) >= self.embed_batch_chunks:
                self._flush(pending, report, notify)
                pending = []
        self._flush(pending, report, notify)
        if report.ingested:
            self.store.analyze()
        return report

    def _flush(self, pending: list[_Pending], report: IngestReport, notify: ProgressCallback) -> None:
        if not pending:
            return
        started = time.perf_counter()
        texts = [_embedding_text(p.document, c) for p in pending for c in p.chunks]
        vectors = np.asarray(self.embedder.embed_documents(texts), dtype=np.float32)
        report.embed_seconds += time.perf_counter() - started
        offset = 0
        for item in pending:
            embeddings = vectors[offset : offset + len(item.chunks)]
            offset += len(item.chunks)
            started = time.perf_counter()
            extraction = self.extractor.extract(item.document.metadata.title, item.document.text, item.chunks)
            try:
                outcome = self.store.write(item.document, item.chunks, embeddings, extraction)
            except StorageError as exc:
                self._refuse(report, notify, Refusal(item.document.label, f"not stored: {exc}"))
                continue
            finally:
                report.store_seconds += time.perf_counter() - started
            {
                WriteOutcome.INSERTED: report.inserted,
                WriteOutcome.REPLACED: report.replaced,
                WriteOutcome.UNCHANGED: report.unchanged,
            }[outcome].append(item.document.label)
            if outcome is not WriteOutcome.UNCHANGED:
                report.chunks_written += len(item.chunks)
            notify(IngestEvent(item.document.label, outcome.value, f"{len(item.chunks)} chunks"))

    @staticmethod
    def _refuse(report: IngestReport, notify: ProgressCallback, refusal: Refusal) -> None:
        report.refused.append(refusal)
        notify(IngestEvent(refusal.label, "refused", refusal.reason))


def _embedding_text(document: SourceDocument, chunk: Chunk) -> str:
    # The title gives short chunks the context they lack on their own.
    return f"{document.metadata.title}\n{chunk.text}"
