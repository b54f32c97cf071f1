"""Claim-level citation checking: every [n] in an answer must name a passage the model was actually
shown, and that passage must support the sentence it is attached to.

Support is lexical: the share of the sentence's content words (stemmed, citation markers and
stop words removed) that the passage contains. A marker that resolves to nothing is dropped as
`unresolved`; one whose passage shares too little is dropped as `unsupported`. A sentence left
with no valid marker stays in the answer but is flagged, so a reader sees it is not backed.

A marker is "[n]" in ASCII only; anything else that looks like one ("【1】", "[３]", "[S3]") is
rewritten "(n)" wherever document text meets a model and in the checked answer, so a document's
own footnotes can never pass for, or be parsed as, a citation.
"""

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass

from quarry.corpus.chunking import sentence_spans
from quarry.tools.text import content_terms

# The one marker form: ASCII brackets around ASCII digits. `\d` would also read "[３]" or "[٣]" as [3].
_MARKER = re.compile(r"\[([0-9]+)\]")
_MARKERS_RUN = re.compile(r"\s*(?:\[[0-9]+\])+")

# What a reader (or a model) could take for a citation marker without being one Quarry added:
# any bracket-like pair (fullwidth, lenticular, tortoise-shell, white, HTML entities) around an
# optional short label ("S", "ref", "^", "#") and numbers in any script, with invisible characters
# (zero-width, bidi controls, soft hyphen) allowed anywhere inside.
_OPEN = r"(?:\[|［|【|〔|〖|〘|〚|⟦|⁅|❲|&\#0*91;|&\#x0*5b;|&lsqb;|&lbrack;)"
_CLOSE = r"(?:\]|］|】|〕|〗|〙|〛|⟧|⁆|❳|&\#0*93;|&\#x0*5d;|&rsqb;|&rbrack;)"
_HIDDEN = r"[\u00ad\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]*"
_LOOKALIKE = re.compile(
    rf"{_OPEN}{_HIDDEN}(?P<label>(?:\^|\#|[^\W\d_]{{1,8}}\.?)?\s?){_HIDDEN}"
    rf"(?P<number>\d+(?:{_HIDDEN}\s*[,;–-]?\s*{_HIDDEN}\d+)*){_HIDDEN}{_CLOSE}",
    re.IGNORECASE,
)
_SPACED_LOOKALIKE = re.compile(rf"\s*(?:{_LOOKALIKE.pattern})", re.IGNORECASE)
_HIDDEN_RUN = re.compile(_HIDDEN[:-1] + "+")
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


def neutralize_markers(text: str) -> str:
    """Rewrite everything that looks like a citation marker ("[3]", "[S3]", "【1】", "[３]") as
    "(3)", "(S3)", "(1)", "(3)": the meaning stays readable and no parser or reader takes it for a
    citation. Applied to document text before any model sees it, and to answer text once the real
    markers are taken out, so the only markers in an answer are the ones Quarry adds."""
    return _LOOKALIKE.sub(_parenthesized, text)


def strip_markers(text: str) -> str:
    """Remove citation-marker lookalikes with the space before them: a quoted sentence loses its
    document's own footnotes ("within 30 days [2]." -> "within 30 days.")."""
    return _SPACED_LOOKALIKE.sub("", text)


def _parenthesized(match: re.Match[str]) -> str:
    label = _HIDDEN_RUN.sub("", match.group("label"))
    number = "".join(
        str(unicodedata.digit(c)) if c.isdigit() else c for c in _HIDDEN_RUN.sub("", match.group("number"))
    )
    return f"({label}{number})"


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
        text = neutralize_markers(_MARKERS_RUN.sub("", sentence).strip())
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
