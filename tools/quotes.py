"""Where in a cited passage the supporting sentence(s) are: the span a citation highlights.

A citation points at a chunk (its offsets stay); the quote narrows it to the sentence(s) of the
chunk that share the most content words with the claims citing it, one sentence per claim, as one
span from the first to the last. A claim sharing no word with any sentence quotes the whole chunk.
"""

from collections.abc import Sequence

from quarry.tools.sentences import sentence_spans
from quarry.tools.text import content_terms


def quote_span(passage: str, claims: Sequence[str]) -> tuple[int, int]:
    """(start, end) inside `passage` of the sentence(s) that best support `claims`."""
    spans = [s for s in sentence_spans(passage) if not passage[s[0] : s[1]].startswith("#")]  # headings support nothing
    if not spans:
        return 0, len(passage)
    chosen: list[tuple[int, int]] = []
    for claim in claims:
        wanted = content_terms(claim)
        best = max(spans, key=lambda s: (len(wanted & content_terms(passage[s[0] : s[1]])), -s[0]))
        if wanted & content_terms(passage[best[0] : best[1]]):
            chosen.append(best)
    if not chosen:
        return 0, len(passage)
    return min(s for s, _ in chosen), max(e for _, e in chosen)
