"""Which page(s) or section a span of a document's text falls in, from where its pages and sections begin."""

from bisect import bisect_right
from collections.abc import Sequence


def pages_of(page_starts: Sequence[int], start: int, end: int) -> tuple[int, int] | None:
    """(first page, last page), numbered from 1, of text[start:end]; None when the text has no pages."""
    if not page_starts:
        return None
    first = max(1, bisect_right(page_starts, start))
    last = max(first, bisect_right(page_starts, max(start, end - 1)))
    return first, last


def section_of(sections: Sequence[tuple[int, str]], start: int) -> str | None:
    """The heading path of the section text[start:] opens in (None before the first heading)."""
    index = bisect_right([offset for offset, _ in sections], start) - 1
    return sections[index][1] if index >= 0 else None
