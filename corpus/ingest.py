"""Ingestion: load → validate → chunk → embed → store, document by document, refusing bad input.

One bad document never stops the batch; each good one commits whole or not at all. Chunks from
several documents are embedded together so small documents do not pay per-call model overhead.

A document with images is written blobs first (content-addressed, idempotent), then its rows in one
transaction: a crash at any point leaves it fully present or fully absent, plus at most some
unreferenced blobs for `quarry gc` (corpus/gc.py). Each image's caption is a chunk of its own.
"""

import functools
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
from langchain_core.embeddings import Embeddings

from quarry.corpus.blobs import BlobStore
from quarry.corpus.chunking import Chunk, chunk_text
from quarry.corpus.config import ChunkingConfig
from quarry.corpus.entities import EntityExtractor, OfflineExtractor
from quarry.corpus.loaders import Refusal, Skipped, load_paths
from quarry.corpus.metadata import SourceDocument
from quarry.corpus.provenance import layout_chunks, located
from quarry.corpus.store import DocumentStore, WriteHook, WriteOutcome
from quarry.corpus.tokens import count_tokens
from quarry.errors import BlobError, StorageError


@dataclass
class IngestReport:
    inserted: list[str] = field(default_factory=list)
    replaced: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    superseded: list[str] = field(default_factory=list)
    """Older than the version already stored: not written."""
    assets_written: int = 0
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
            + (f", superseded {len(self.superseded)} (a newer version is stored)" if self.superseded else "")
            + (f", skipped {len(self.skipped)} non-document files" if self.skipped else "")
            + f"; {self.chunks_written} chunks written"
            + (f", {self.assets_written} images" if self.assets_written else "")
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
        blobs: BlobStore | None = None,
        max_asset_bytes: int = 20_000_000,
        on_step: WriteHook | None = None,
    ) -> None:
        self.store = store
        self.extractor = extractor or OfflineExtractor()
        self.embedder = embedder
        self.chunking = chunking
        self.max_document_bytes = max_document_bytes
        self.embed_batch_chunks = embed_batch_chunks
        self.blobs = blobs
        self.max_asset_bytes = max_asset_bytes
        self.on_step = on_step
        """Told "blobs_written", "rows_written" and "committed" for each document (tracing, fault injection)."""

    def ingest_paths(
        self, paths: Iterable[Path], *, defaults: dict[str, Any] | None = None, progress: ProgressCallback | None = None
    ) -> IngestReport:
        results = load_paths(
            paths, defaults=defaults, max_bytes=self.max_document_bytes, max_asset_bytes=self.max_asset_bytes
        )
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
                notify(IngestEvent(result.label, "skipped", result.reason))
                continue
            if isinstance(result, Refusal):
                self._refuse(report, notify, result)
                continue
            if result.id in seen:
                self._refuse(
                    report,
                    notify,
                    Refusal(
                        result.label,
                        f"duplicate document id '{result.id}' (also used by '{seen[result.id]}' in this batch)",
                    ),
                )
                continue
            seen[result.id] = result.label
            if self.store.stored_hash(result.id) == result.content_hash:
                report.unchanged.append(result.label)
                notify(IngestEvent(result.label, "unchanged"))
                continue
            pending.append(_Pending(result, _chunks(result, self.chunking)))
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
            text_chunks = [c for c in item.chunks if c.asset_ordinal is None]
            extraction = self.extractor.extract(item.document.metadata.title, item.document.text, text_chunks)
            try:
                outcome = self.store.write(
                    item.document,
                    item.chunks,
                    embeddings,
                    extraction,
                    put_blobs=functools.partial(self._put_blobs, item.document),
                    hook=self.on_step,
                )
            except (StorageError, BlobError) as exc:
                self._refuse(report, notify, Refusal(item.document.label, f"not stored: {exc}"))
                continue
            finally:
                report.store_seconds += time.perf_counter() - started
            if self.on_step is not None:
                self.on_step("committed")
            {
                WriteOutcome.INSERTED: report.inserted,
                WriteOutcome.REPLACED: report.replaced,
                WriteOutcome.UNCHANGED: report.unchanged,
                WriteOutcome.SUPERSEDED: report.superseded,
            }[outcome].append(item.document.label)
            if outcome in (WriteOutcome.INSERTED, WriteOutcome.REPLACED):
                report.chunks_written += len(item.chunks)
                report.assets_written += len(item.document.assets)
            notify(IngestEvent(item.document.label, outcome.value, f"{len(item.chunks)} chunks"))

    def _put_blobs(self, document: SourceDocument) -> None:
        if not document.assets:
            return
        if self.blobs is None:
            raise BlobError("this ingestor has no blob store for images")
        for asset in document.assets:
            self.blobs.put(asset.data)
        if self.on_step is not None:
            self.on_step("blobs_written")

    @staticmethod
    def _refuse(report: IngestReport, notify: ProgressCallback, refusal: Refusal) -> None:
        report.refused.append(refusal)
        notify(IngestEvent(refusal.label, "refused", refusal.reason))


def _chunks(document: SourceDocument, config: ChunkingConfig) -> list[Chunk]:
    """The text's chunks, then one per image: its caption, where it sits in the text."""
    chunks = (
        layout_chunks(document, config)
        if document.page_starts or document.sections
        else chunk_text(document.text, config)
    )
    for number, asset in enumerate(document.assets):
        same = next(
            (i for i, c in enumerate(chunks) if (c.start_char, c.end_char) == (asset.caption_start, asset.caption_end)),
            None,
        )
        if same is not None:  # an image document's text is its caption: that chunk is the image's
            chunks[same] = replace(chunks[same], asset_ordinal=number)
            continue
        chunks.append(
            located(
                document,
                Chunk(
                    len(chunks),
                    asset.caption_start,
                    asset.caption_end,
                    asset.caption,
                    max(1, count_tokens(asset.caption)),
                    asset_ordinal=number,
                ),
            )
        )
    return chunks


def _embedding_text(document: SourceDocument, chunk: Chunk) -> str:
    # The title gives short chunks the context they lack on their own.
    if chunk.asset_ordinal is not None:
        return f"{document.metadata.title}\nImage: {chunk.text}"
    return f"{document.metadata.title}\n{chunk.text}"
