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
    segments: list[tuple[int, int]] = []
    cursor = 0
    for match in _ITEM_START.finditer(text):
        segments.append((cursor, match.start()))
        cursor = match.end()
    segments.append((cursor, len(text)))
    return [(start + a, start + b) for start, end in segments if start < end for a, b in _prose_spans(text[start:end])]


def readable(text: str) -> str:
    """Text as a reader should see it quoted: image syntax becomes its alt text (or nothing)."""
    return _IMAGE.sub(lambda m: m.group(1).strip(), text)


def has_image(text: str) -> bool:
    return _IMAGE.search(text) is not None
