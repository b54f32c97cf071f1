"""Which page(s) or section a span of a document's text falls in, and chunks that keep to one page or section."""

from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from quarry.corpus.chunking import Chunk, chunk_text
from quarry.corpus.config import ChunkingConfig

if TYPE_CHECKING:
    from quarry.corpus.metadata import SourceDocument


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


def located(document: "SourceDocument", chunk: Chunk) -> Chunk:
    """The chunk with the page(s) and section its span falls in (unchanged for a document without them)."""
    pages = pages_of(document.page_starts, chunk.start_char, chunk.end_char)
    section = section_of(document.sections, chunk.start_char)
    if pages is None and section is None:
        return chunk
    return replace(chunk, page_first=pages and pages[0], page_last=pages and pages[1], section=section)


def layout_chunks(document: "SourceDocument", config: ChunkingConfig) -> list[Chunk]:
    """The document's chunks, cut at every page and section start so that each chunk lies on one page
    (or in one section) and cites it exactly; each chunk carries its page and section."""
    cuts = sorted({0, *document.page_starts, *(offset for offset, _ in document.sections)} - {len(document.text)})
    chunks: list[Chunk] = []
    for start, end in zip(cuts, [*cuts[1:], len(document.text)]):
        for piece in chunk_text(document.text[start:end], config):
            first, last = pages_of(document.page_starts, start + piece.start_char, start + piece.end_char) or (
                None,
                None,
            )
            chunks.append(
                replace(
                    piece,
                    ordinal=len(chunks),
                    start_char=start + piece.start_char,
                    end_char=start + piece.end_char,
                    page_first=first,
                    page_last=last,
                    section=section_of(document.sections, start + piece.start_char),
                )
            )
    return chunks
