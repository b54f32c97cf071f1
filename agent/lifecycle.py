"""Deleting documents: what `quarry rm`, `Assistant.delete` and `quarry ingest --prune` share.

A deletion commits the documents' removal (their chunks, assets and graph evidence go by cascade)
and one corpus-version bump in one transaction (corpus/store.py), so BM25, the graph and the
reader views rebuild without them; then every cached answer citing one of them is dropped
(tools/cache.py). Their image blobs stay until gc finds them unreferenced (`quarry gc`, and the
start of every ingest), which also keeps a blob another document shares.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from quarry.corpus.filters import SearchFilters
from quarry.corpus.store import DocumentRef, DocumentStore
from quarry.errors import DocumentNotFound, UsageError
from quarry.tools.cache import SemanticCache

_URI_SCHEME = ("://", "urn:")


@dataclass(frozen=True, kw_only=True, slots=True)
class Deletion:
    documents: tuple[DocumentRef, ...]
    """What was deleted (with `dry_run`, what would be)."""
    cache_entries: int
    """Cached answers dropped because they cited a deleted document."""
    dry_run: bool


def select(
    store: DocumentStore,
    *,
    ids: Sequence[str] = (),
    sources: Sequence[str | Path] = (),
    filters: SearchFilters | None = None,
) -> list[DocumentRef]:
    """The documents every given selector admits. Refuses an empty selection (which would name the whole
    corpus) and ids that name no document, before anything is deleted."""
    active = filters is not None and filters != SearchFilters()
    if not ids and not sources and not active:
        raise UsageError(
            "name the documents to delete: ids, a source (--source PATH or URI) or a filter"
            " (--domain, --author, --tag, --after, --before)"
        )
    found = store.matching(ids=ids, sources=[_source_key(s) for s in sources], filters=filters if active else None)
    missing = sorted(set(ids) - {ref.id for ref in store.matching(ids=ids)})
    if missing:
        raise DocumentNotFound(
            f"no document has the id '{missing[0]}'"
            + (f" (nor {len(missing) - 1} other id(s) given)" if len(missing) > 1 else "")
            + "; nothing was deleted (ids are shown by `quarry search` and in every citation)"
        )
    if not found:
        raise DocumentNotFound("no document matches the given source and filters; nothing was deleted")
    return found


def delete(store: DocumentStore, cache: SemanticCache, documents: Sequence[DocumentRef]) -> Deletion:
    deleted = store.delete_documents([ref.id for ref in documents])
    return Deletion(documents=tuple(deleted), cache_entries=forget(cache, deleted), dry_run=False)


def forget(cache: SemanticCache, deleted: Sequence[DocumentRef]) -> int:
    """Drop the cached answers that cite (or drew evidence from) `deleted`."""
    return cache.forget_documents([ref.id for ref in deleted], [ref.source for ref in deleted]) if deleted else 0


def _source_key(source: str | Path) -> str:
    """A URI as given; a path made absolute the way ingest records origins."""
    text = str(source)
    if isinstance(source, str) and any(mark in text for mark in _URI_SCHEME):
        return text
    try:
        return str(Path(text).resolve())
    except (OSError, ValueError):
        return str(Path(text).absolute())
