"""Token-aware chunking that keeps exact character offsets into the document text.

Text is cut into sentences (inside paragraphs), sentences are packed greedily up to
`max_tokens`, and a chunk closes early at a paragraph break once it is half full. The last
sentences of a chunk, up to `overlap_tokens`, open the next one. A sentence longer than a
whole chunk is cut at word boundaries (or, for a run with no spaces, at character windows).
For every chunk `text[start_char:end_char] == chunk.text`.
"""

import re
from dataclasses import dataclass

from quarry.corpus.config import ChunkingConfig
from quarry.corpus.tokens import count_tokens

_PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n\s*")
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"')\]]*\s+(?=[\"'(\[]?[A-Z0-9])")
_NON_SPACE_RUN = re.compile(r"\S+")


@dataclass(frozen=True)
class Chunk:
    ordinal: int
    start_char: int
    end_char: int
    text: str
    token_count: int
    asset_ordinal: int | None = None
    """Set on an image's caption chunk: which of the document's assets it describes."""
    page_first: int | None = None
    """PDF: the page the chunk starts on (from 1); page_last the page it ends on."""
    page_last: int | None = None
    section: str | None = None
    """HTML/DOCX: the heading path of the section the chunk starts in (`Methods › Sampling`)."""


@dataclass(frozen=True)
class _Unit:
    start: int
    end: int
    tokens: int
    opens_paragraph: bool


def chunk_text(text: str, config: ChunkingConfig) -> list[Chunk]:
    units = list(_units(text, config.max_tokens))
    chunks: list[Chunk] = []
    first = 0
    while first < len(units):
        last = _pack(units, first, config.max_tokens, text)
        start, end = units[first].start, units[last].end
        span = text[start:end]
        chunks.append(Chunk(len(chunks), start, end, span, count_tokens(span)))
        if last + 1 >= len(units):
            break
        first = _overlap_start(units, first, last, config.overlap_tokens)
    return chunks


def _pack(units: list[_Unit], first: int, max_tokens: int, text: str) -> int:
    """Index of the last unit of the chunk that starts at `first`."""
    last = first
    budget = units[first].tokens
    for index in range(first + 1, len(units)):
        unit = units[index]
        if unit.opens_paragraph and budget >= max_tokens // 2 and budget + _paragraph_tokens(units, index) > max_tokens:
            break
        # +1 for the whitespace joining units; the exact count is checked below.
        if budget + unit.tokens + 1 > max_tokens:
            break
        budget += unit.tokens + 1
        last = index
    while last > first and count_tokens(text[units[first].start : units[last].end]) > max_tokens:
        last -= 1
    return last


def _paragraph_tokens(units: list[_Unit], index: int) -> int:
    total = units[index].tokens
    for unit in units[index + 1 :]:
        if unit.opens_paragraph:
            break
        total += unit.tokens + 1
    return total


def _overlap_start(units: list[_Unit], first: int, last: int, overlap_tokens: int) -> int:
    """Where the next chunk starts: after `last`, pulled back over trailing units that fit the overlap."""
    start = last + 1
    carried = 0
    while start - 1 > first and carried + units[start - 1].tokens <= overlap_tokens:
        carried += units[start - 1].tokens
        start -= 1
    return start


def _units(text: str, max_tokens: int) -> list[_Unit]:
    units: list[_Unit] = []
    for para_start, para_end in _spans_between(text, _PARAGRAPH_BREAK, 0, len(text)):
        opens = True
        for start, end in _spans_between(text, _SENTENCE_END, para_start, para_end):
            for piece_start, piece_end in _fit(text, start, end, max_tokens):
                units.append(_Unit(piece_start, piece_end, count_tokens(text[piece_start:piece_end]), opens))
                opens = False
    return units


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of every sentence, paragraph by paragraph, trimmed: text[start:end] is the sentence."""
    return [
        span
        for para in _spans_between(text, _PARAGRAPH_BREAK, 0, len(text))
        for span in _spans_between(text, _SENTENCE_END, *para)
    ]


def _spans_between(text: str, separator: re.Pattern[str], start: int, end: int) -> list[tuple[int, int]]:
    """Pieces of text[start:end] between separator matches, trimmed of surrounding whitespace."""
    spans = []
    cursor = start
    for match in separator.finditer(text, start, end):
        spans.append((cursor, match.start()))
        cursor = match.end()
    spans.append((cursor, end))
    return [trimmed for span in spans if (trimmed := _trim(text, *span))]


def _trim(text: str, start: int, end: int) -> tuple[int, int] | None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return (start, end) if start < end else None


def _fit(text: str, start: int, end: int, max_tokens: int) -> list[tuple[int, int]]:
    """Split an over-long sentence at word boundaries so every piece fits in a chunk."""
    if count_tokens(text[start:end]) <= max_tokens:
        return [(start, end)]
    pieces: list[tuple[int, int]] = []
    piece_start: int | None = None
    piece_end = start
    for word in _NON_SPACE_RUN.finditer(text, start, end):
        if piece_start is not None and count_tokens(text[piece_start : word.end()]) <= max_tokens:
            piece_end = word.end()
            continue
        if piece_start is not None:
            pieces.append((piece_start, piece_end))
        if count_tokens(word.group()) > max_tokens:
            pieces.extend(_character_windows(text, word.start(), word.end(), max_tokens))
            piece_start = None
        else:
            piece_start, piece_end = word.start(), word.end()
    if piece_start is not None:
        pieces.append((piece_start, piece_end))
    return pieces


def _character_windows(text: str, start: int, end: int, max_tokens: int) -> list[tuple[int, int]]:
    windows = []
    while start < end:
        size = min(end - start, max_tokens)  # a token is at least one character
        while size > 1 and count_tokens(text[start : start + size]) > max_tokens:
            size //= 2
        # Grow back toward the limit so windows are not needlessly small.
        step = size
        while step > 1:
            step //= 2
            if start + size + step <= end and count_tokens(text[start : start + size + step]) <= max_tokens:
                size += step
        windows.append((start, start + size))
        start += size
    return windows
