"""Ingestion: load → validate → chunk → embed → store, document by document, refusing bad input.

One bad document never stops the batch; each good one commits whole or not at all. Chunks from
several documents are embedded together so small documents do not pay per-call model overhead.

A document with images is written blobs first (content-addressed, idempotent), then its rows in one
transaction: a crash at any point leaves it fully present or fully absent, plus at most some
unreferenced blobs for `quarry gc` (corpus/gc.py). Each image's caption is a chunk of its own.
"""

import functools
import time
from collections.abc import Callable, Iterable, Sequence
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
from quarry.corpus.store import DocumentRef, DocumentStore, WriteHook, WriteOutcome
from quarry.corpus.tokens import count_tokens
from quarry.errors import BlobError, IdClaimed, StorageError


@dataclass
class IngestReport:
    inserted: list[str] = field(default_factory=list)
    replaced: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[DocumentRef] = field(default_factory=list)
    """Deleted by this ingest: records no longer in a file that was read whole, and (with prune) vanished ones."""
    vanished: list[DocumentRef] = field(default_factory=list)
    """Stored documents from under the ingested folders whose file is gone (deleted only with prune)."""
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
            + (f", removed {len(self.removed)}" if self.removed else "")
            + (f", vanished {len(self.vanished)} (their files are gone)" if self.vanished else "")
            + (f", skipped {len(self.skipped)} non-document files" if self.skipped else "")
            + f"; {self.chunks_written} chunks written"
            + (f", {self.assets_written} images" if self.assets_written else "")
        )


@dataclass(frozen=True)
class IngestEvent:
    """One document finished (any outcome); for progress displays."""

    label: str
    outcome: str
    """inserted, replaced, unchanged, refused, skipped, removed or vanished."""
    detail: str = ""


ProgressCallback = Callable[[IngestEvent], None]
RemovalHook = Callable[[Sequence[DocumentRef]], object]
"""Told the documents an ingest deleted, after they are gone (the semantic cache forgets answers citing them)."""


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
        on_removed: RemovalHook | None = None,
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
        self.on_removed = on_removed

    def ingest_paths(
        self,
        paths: Iterable[Path],
        *,
        defaults: dict[str, Any] | None = None,
        progress: ProgressCallback | None = None,
        prune: bool = False,
        force: bool = False,
    ) -> IngestReport:
        paths = list(paths)
        results = load_paths(
            paths, defaults=defaults, max_bytes=self.max_document_bytes, max_asset_bytes=self.max_asset_bytes
        )
        return self.ingest_documents(results, progress=progress, roots=paths, prune=prune, force=force)

    def ingest_documents(
        self,
        results: Iterable[SourceDocument | Refusal | Skipped],
        *,
        progress: ProgressCallback | None = None,
        roots: Sequence[Path] = (),
        prune: bool = False,
        force: bool = False,
    ) -> IngestReport:
        """Store each document, refuse what cannot be. A file read whole and without refusals is
        authoritative for its documents: ones stored from it that it no longer holds (a JSONL record
        deleted or edited) are removed. Stored documents from under `roots` whose file is gone are
        reported as vanished, and removed first when `prune`. An id stored from another origin is
        refused unless `force`."""
        report = IngestReport()
        notify = progress or (lambda event: None)
        report.vanished = self._vanished(roots)
        for ref in report.vanished:
            notify(IngestEvent(ref.origin, "vanished", ref.id))
        if prune:
            self._remove(report, notify, [ref.id for ref in report.vanished])
        seen: dict[str, str] = {}
        by_origin: dict[str, set[str]] = {}
        spoiled: set[str] = set()
        """Origins with a refusal: not read whole, so not authoritative for what they no longer hold."""
        pending: list[_Pending] = []
        for result in results:
            if isinstance(result, Skipped):
                report.skipped.append(result.label)
                notify(IngestEvent(result.label, "skipped", result.reason))
                continue
            if isinstance(result, Refusal):
                spoiled.add(result.origin)
                self._refuse(report, notify, result)
                continue
            if result.origin:
                by_origin.setdefault(result.origin, set()).add(result.id)
            if result.id in seen:
                spoiled.add(result.origin)
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
            stored = self.store.owner_of(result.id)
            if stored is not None and stored[1] and stored[1] != result.owner and not force:
                spoiled.add(result.origin)
                self._refuse(report, notify, Refusal(result.label, _claimed(result, stored[1])))
                continue
            if stored == (result.content_hash, result.owner):
                report.unchanged.append(result.label)
                notify(IngestEvent(result.label, "unchanged"))
                continue
            pending.append(_Pending(result, _chunks(result, self.chunking)))
            if sum(len(p.chunks) for p in pending) >= self.embed_batch_chunks:
                spoiled |= self._flush(pending, report, notify, force=force)
                pending = []
        spoiled |= self._flush(pending, report, notify, force=force)
        read_whole = {origin: ids for origin, ids in by_origin.items() if origin not in spoiled}
        dropped = [
            ref.id for ref in self.store.documents_at(list(read_whole)) if ref.id not in read_whole.get(ref.origin, ())
        ]
        self._remove(report, notify, dropped)
        if report.ingested or report.removed:
            self.store.analyze()
        return report

    def _vanished(self, roots: Sequence[Path]) -> list[DocumentRef]:
        """Stored documents whose origin is under `roots` and is no longer a file."""
        where = [_absolute(root) for root in roots]
        return [ref for ref in self.store.documents_from(where) if not _is_file(ref.origin)]

    def _remove(self, report: IngestReport, notify: ProgressCallback, document_ids: Sequence[str]) -> None:
        removed = self.store.delete_documents(document_ids)
        for ref in removed:
            report.removed.append(ref)
            notify(IngestEvent(ref.origin, "removed", ref.id))
        if removed and self.on_removed is not None:
            self.on_removed(removed)

    def _flush(
        self, pending: list[_Pending], report: IngestReport, notify: ProgressCallback, *, force: bool
    ) -> set[str]:
        """Embed and store `pending`; returns the origins of documents that were refused."""
        refused: set[str] = set()
        if not pending:
            return refused
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
                    force=force,
                )
            except IdClaimed as exc:  # claimed by another origin since the check before embedding
                refused.add(item.document.origin)
                self._refuse(report, notify, Refusal(item.document.label, _claimed(item.document, exc.owner)))
                continue
            except (StorageError, BlobError) as exc:
                refused.add(item.document.origin)
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
            }[outcome].append(item.document.label)
            if outcome in (WriteOutcome.INSERTED, WriteOutcome.REPLACED):
                report.chunks_written += len(item.chunks)
                report.assets_written += len(item.document.assets)
            notify(IngestEvent(item.document.label, outcome.value, f"{len(item.chunks)} chunks"))
        return refused

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


def _claimed(document: SourceDocument, owner: str) -> str:
    return str(IdClaimed(document.label, document.id, owner)).removeprefix(f"document '{document.label}': ")


def _absolute(path: Path) -> str:
    try:
        return str(path.resolve())
    except (OSError, ValueError):
        return str(path.absolute())


def _is_file(origin: str) -> bool:
    try:
        return Path(origin).is_file()
    except (OSError, ValueError):
        return False


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
