"""Sentences of evidence and answer text, for quoting and citing (not for chunking).

On top of the chunker's sentence spans (paragraphs, then ". " before a capital or digit), a line
that opens a list item ("- ", "* ", "1. ") starts a sentence of its own and loses its bullet, so a
five-bullet list is five sentences, not one. Markdown image syntax (`![alt](figures/cost.png)`) is
never quoted raw: `readable` replaces it with its alt text.
"""

import re

from quarry.corpus.chunking import sentence_spans as _prose_spans

_ITEM_START = re.compile(r"(?m)^[ \t]*(?:[-*+•]|\d{1,3}[.)])[ \t]+")
_IMAGE = re.compile(r"!\[([^\]]*)\]\([^)]*\)")


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of every sentence and list item: text[start:end] is it, bullet and spaces trimmed."""
    spans: list[tuple[int, int]] = []
    for start, end in _prose_spans(text):
        cuts = [m for m in _ITEM_START.finditer(text, start, end)]
        cursor = start
        for match in cuts:
            spans.extend(_trimmed(text, cursor, match.start()))
            cursor = match.end()
        spans.extend(_trimmed(text, cursor, end))
    return spans


def readable(text: str) -> str:
    """Text as a reader should see it quoted: image syntax becomes its alt text (or nothing)."""
    return _IMAGE.sub(lambda m: m.group(1).strip(), text)


def has_image(text: str) -> bool:
    return _IMAGE.search(text) is not None


def _trimmed(text: str, start: int, end: int) -> list[tuple[int, int]]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return [(start, end)] if start < end else []
