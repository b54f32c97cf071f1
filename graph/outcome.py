"""Whether a run answered its question: which parts of it the verified, cited sentences answer.

Separate from `partial`/`stopped_by` (why the run stopped): a run can end within every limit and
still not answer ("the evidence found does not answer the question"), or stop at a limit with the
question answered.
"""

from collections.abc import Mapping, Sequence
from typing import Literal

from quarry.tools.citations import CitationCheck
from quarry.tools.question_parts import CitedSentence, Part, open_parts

Answered = bool | Literal["partly"]
"""True: every part answered; "partly": some; False: none (or no cited answer at all)."""


def cited_sentences(check: CitationCheck, titles: Mapping[int, str]) -> list[CitedSentence]:
    """The claims that kept a citation, each with the titles of the passages it cites."""
    return [
        CitedSentence(text=claim.text, titles=" ".join(titles[m] for m in claim.markers if m in titles))
        for claim in check.claims
        if claim.markers
    ]


def still_open(parts: Sequence[Part], check: CitationCheck | None, titles: Mapping[int, str]) -> tuple[Part, ...]:
    if check is None:
        return tuple(parts)
    return open_parts(parts, cited_sentences(check, titles))


def answered(parts: Sequence[Part], unanswered: Sequence[Part]) -> Answered:
    if not unanswered:
        return True
    return "partly" if len(unanswered) < len(parts) else False
