"""Filters as the corpus spells them: `--author "marco bellini"` finds Marco Bellini's documents.

Stored metadata is matched exactly by every retriever (SQL, BM25's mask, the graph), so a value the
user typed in another case is mapped here, once, at the front door, to the stored spelling.
"""

from quarry.corpus.filters import SearchFilters
from quarry.corpus.store import DocumentStore


def as_stored(filters: SearchFilters, store: DocumentStore) -> SearchFilters:
    if not (filters.authors or filters.domains or filters.tags):
        return filters
    spellings = store.metadata_spellings()
    return filters.model_copy(
        update={
            "authors": _respelled(filters.authors, spellings["authors"]),
            "domains": _respelled(filters.domains, spellings["domains"]),
            "tags": _respelled(filters.tags, spellings["tags"]),
        }
    )


def _respelled(values: tuple[str, ...], stored: list[str]) -> tuple[str, ...]:
    by_fold: dict[str, list[str]] = {}
    for name in stored:
        by_fold.setdefault(" ".join(name.casefold().split()), []).append(name)
    found: list[str] = []
    for value in values:
        found.extend(by_fold.get(" ".join(value.casefold().split()), [value]))
    return tuple(dict.fromkeys(found))
