"""Per-question answer and evidence metrics for `quarry eval qa` (pure functions, no I/O).

Answer metrics follow the SQuAD script: lowercase, drop punctuation and the articles a/an/the,
collapse whitespace, then take the best score over the gold answers (aliases). A gold answer of a
compound question may be a list of parts ("Redpanda", "ADR-015"): all of them make the answer.
Exact match and F1 score the answer's lead sentence (the short answer it opens with, citation
markers removed); `contains` asks that the whole normalised gold answer, every part of it, occur in
the normalised answer on word boundaries ("ADR-015" alone does not contain "Redpanda; ADR-015").
"""

import re
import string
from collections import Counter
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass

from quarry.graph.budget.limits import Limits

DEADLINE_TOLERANCE_S = 0.5
"""Grace past max_seconds before a run counts as a deadline violation: the controller stops work at the
deadline but the caller also waits for finalize's write-back and the ledger's closing row."""

_ARTICLES = re.compile(r"\b(a|an|the)\b")
_MARKERS = re.compile(r"\s*\[[0-9]+\]")

Gold = str | tuple[str, ...]
"""A gold answer: one string, or the parts a compound question's answer needs all of."""
_PUNCTUATION = str.maketrans("", "", string.punctuation)


def normalize_answer(text: str) -> str:
    """SQuAD normalisation: lowercase, no punctuation, no articles, single spaces."""
    text = text.lower().translate(_PUNCTUATION)
    return " ".join(_ARTICLES.sub(" ", text).split())


def alias_text(gold: Gold) -> str:
    return gold if isinstance(gold, str) else "; ".join(gold)


def lead_sentence(answer: str) -> str:
    """The answer's first sentence without citation markers: what exact match and F1 score."""
    from quarry.tools.sentences import sentence_spans

    spans = sentence_spans(answer)
    first = answer[spans[0][0] : spans[0][1]] if spans else answer
    return _MARKERS.sub("", first).strip()


def exact_match(prediction: str, gold: Iterable[Gold]) -> float | None:
    """1.0 when the normalised prediction equals some normalised gold answer; None without gold answers."""
    answers = [normalize_answer(alias_text(g)) for g in gold]
    if not answers:
        return None
    predicted = normalize_answer(prediction)
    return float(any(predicted == answer for answer in answers))


def f1_score(prediction: str, gold: Iterable[Gold]) -> float | None:
    """Token-overlap F1 (bag of normalised words), best over gold answers; None without gold answers."""
    answers = [normalize_answer(alias_text(g)).split() for g in gold]
    if not answers:
        return None
    predicted = normalize_answer(prediction).split()
    return max(_token_f1(predicted, answer) for answer in answers)


def contains_answer(prediction: str, gold: Iterable[Gold]) -> float | None:
    """1.0 when some gold answer, whole and with every part, occurs normalised in the normalised
    prediction as whole words ("no" is not found in "north"); None without gold answers."""
    aliases = [[normalize_answer(p) for p in ((g,) if isinstance(g, str) else g)] for g in gold]
    if not aliases:
        return None
    padded = f" {normalize_answer(prediction)} "
    return float(any(parts and all(p and f" {p} " in padded for p in parts) for parts in aliases))


def evidence_recall(gold_sources: Collection[str], found: Iterable[str]) -> float | None:
    """Share of gold documents among `found` (the cited ones, or every one kept as evidence); None
    without gold documents."""
    gold = set(gold_sources)
    if not gold:
        return None
    return len(gold & set(found)) / len(gold)


def citation_precision(gold_sources: Collection[str], cited: Iterable[str]) -> float | None:
    """Share of the distinct cited documents that are gold; None when nothing is cited or nothing is gold."""
    gold, documents = set(gold_sources), set(cited)
    if not gold or not documents:
        return None
    return len(documents & gold) / len(documents)


@dataclass(frozen=True)
class Violations:
    """Which ceilings a finished run went past (each should be impossible by construction)."""

    usd: bool = False
    tokens: bool = False
    hops: bool = False
    seconds: bool = False

    @property
    def any(self) -> bool:
        return self.usd or self.tokens or self.hops or self.seconds

    def as_dict(self) -> dict[str, bool]:
        return {"usd": self.usd, "tokens": self.tokens, "hops": self.hops, "seconds": self.seconds}


def budget_violations(
    limits: Limits, *, usd: float, tokens: int, hops: int, seconds: float, tolerance_s: float = DEADLINE_TOLERANCE_S
) -> Violations:
    """Compare what a run spent with its ceilings; the deadline gets `tolerance_s` of grace."""
    return Violations(
        usd=usd > limits.max_usd,
        tokens=tokens > limits.max_tokens,
        hops=hops > limits.max_hops,
        seconds=seconds > limits.max_seconds + tolerance_s,
    )


def defined(values: Sequence[float | None]) -> list[float]:
    """The values a mean is taken over: undefined ones (None) are excluded, not counted as 0."""
    return [v for v in values if v is not None]


def _token_f1(predicted: list[str], gold: list[str]) -> float:
    if not predicted or not gold:
        return float(predicted == gold)
    common = sum((Counter(predicted) & Counter(gold)).values())
    if common == 0:
        return 0.0
    precision, recall = common / len(predicted), common / len(gold)
    return 2 * precision * recall / (precision + recall)
