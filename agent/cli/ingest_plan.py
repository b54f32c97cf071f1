"""`quarry ingest --dry-run`: what each document would get, and from where, with nothing written."""

from collections.abc import Iterable

from quarry.corpus.loaders import LoadResult, Refusal, Skipped
from quarry.corpus.metadata import SourceDocument

_FIELDS = ("title", "author", "domain", "published_at", "access", "tags", "language", "id", "source")


def print_plan(results: Iterable[LoadResult]) -> tuple[int, int, int]:
    """Print the plan for every result on stdout; returns (would ingest, refused, skipped)."""
    counts = [0, 0, 0]
    for result in results:
        if isinstance(result, Refusal):
            counts[1] += 1
            print(f"refused {result.label}: {result.reason}")
        elif isinstance(result, Skipped):
            counts[2] += 1
            print(f"skipped {result.label}" + (f": {result.reason}" if result.reason else ""))
        else:
            counts[0] += 1
            _print_document(result)
    return counts[0], counts[1], counts[2]


def _print_document(document: SourceDocument) -> None:
    notes = f" ({'; '.join(document.notes)})" if document.notes else ""
    print(f"would ingest {document.label}{notes}")
    values = document.metadata.model_dump(mode="json")
    for name in _FIELDS:
        value = values.get(name)
        if value in (None, [], ()):
            continue
        shown = ", ".join(value) if isinstance(value, list) else str(value)
        origin = document.field_sources.get(name, "derived from source" if name == "id" else "")
        print(f"  {name:<13} {shown}" + (f"   ← {origin}" if origin else ""))
    if document.page_starts:
        print(f"  {'pages':<13} {len(document.page_starts)}")
    if document.assets:
        print(
            f"  {'images':<13} {len(document.assets)} (" + "; ".join(a.caption[:60] for a in document.assets[:3]) + ")"
        )
    if document.sections:
        print(f"  {'sections':<13} {len(document.sections)} (first: {document.sections[0][1]})")
