"""Claim-level citation checking: every [n] in an answer must name a passage the model was actually
shown, and that passage must support the sentence it is attached to.

Support is lexical: the share of the sentence's content words (stemmed, citation markers and
stop words removed) that the passage contains. A marker that resolves to nothing is dropped as
`unresolved`; one whose passage shares too little is dropped as `unsupported`. A sentence left
with no valid marker stays in the answer but is flagged, so a reader sees it is not backed.
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass

from corpus.chunking import sentence_spans
from tools.text import content_terms

_MARKER = re.compile(r"\[(\d+)\]")
_MARKERS_RUN = re.compile(r"\s*(?:\[\d+\])+")
_TRAILING_PUNCT = re.compile(r"[.!?]+[\"')\]]*$")


@dataclass(frozen=True)
class CheckedClaim:
    text: str
    """The sentence with its markers removed."""
    markers: tuple[int, ...]
    """Markers that resolved to a shown passage that supports the sentence."""
    support: Mapping[int, float]
    dropped: tuple[tuple[int, str], ...] = ()
    """(marker, "unresolved" | "unsupported") for every marker removed."""

    @property
    def flagged(self) -> bool:
        """The model claimed evidence for this sentence and none of it held up."""
        return not self.markers and bool(self.dropped)


@dataclass(frozen=True)
class CitationCheck:
    claims: tuple[CheckedClaim, ...]

    @property
    def kept(self) -> int:
        return sum(len(c.markers) for c in self.claims)

    @property
    def unresolved(self) -> int:
        return sum(1 for c in self.claims for _, why in c.dropped if why == "unresolved")

    @property
    def unsupported(self) -> int:
        return sum(1 for c in self.claims for _, why in c.dropped if why == "unsupported")

    @property
    def flagged(self) -> int:
        return sum(1 for c in self.claims if c.flagged)

    @property
    def uncited(self) -> int:
        """Sentences that never carried a marker (framing, hedges, or claims without evidence)."""
        return sum(1 for c in self.claims if not c.markers and not c.dropped)


def with_markers(sentence: str, marks: str, *, close: str = "") -> str:
    """Attach citation marks ("[1][3]") to a sentence, before its closing punctuation; a sentence
    without any gets `close` after the marks."""
    end = _TRAILING_PUNCT.search(sentence)
    return f"{sentence[: end.start()]} {marks}{end.group()}" if end else f"{sentence} {marks}{close}"


def support(sentence: str, passage: str) -> float:
    wanted = content_terms(sentence)
    if not wanted:
        return 1.0
    return len(wanted & content_terms(passage)) / len(wanted)


def check_citations(answer: str, shown: Mapping[int, str], *, min_support: float) -> CitationCheck:
    """`shown`: marker → passage text, exactly the passages the model saw for this answer."""
    claims = []
    for start, end in sentence_spans(answer):
        sentence = answer[start:end]
        markers = [int(m) for m in _MARKER.findall(sentence)]
        text = _MARKERS_RUN.sub("", sentence).strip()
        kept: list[int] = []
        scores: dict[int, float] = {}
        dropped: list[tuple[int, str]] = []
        for marker in dict.fromkeys(markers):
            if marker not in shown:
                dropped.append((marker, "unresolved"))
                continue
            scores[marker] = support(text, shown[marker])
            if scores[marker] >= min_support:
                kept.append(marker)
            else:
                dropped.append((marker, "unsupported"))
        claims.append(CheckedClaim(text, tuple(kept), scores, tuple(dropped)))
    return CitationCheck(tuple(claims))
