"""Per-question answer and evidence metrics for `quarry eval qa` (pure functions, no I/O).

Answer metrics follow the SQuAD script: lowercase, drop punctuation and the articles a/an/the,
collapse whitespace, then take the best score over the gold answers. The offline extractive model
answers with whole sentences, so exact match stays near 0; `contains` (the normalised gold
answer appears in the normalised answer, on word boundaries) is the informative one there.
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
_PUNCTUATION = str.maketrans("", "", string.punctuation)


def normalize_answer(text: str) -> str:
    """SQuAD normalisation: lowercase, no punctuation, no articles, single spaces."""
    text = text.lower().translate(_PUNCTUATION)
    return " ".join(_ARTICLES.sub(" ", text).split())


def exact_match(prediction: str, gold: Iterable[str]) -> float | None:
    """1.0 when the normalised prediction equals some normalised gold answer; None without gold answers."""
    answers = [normalize_answer(g) for g in gold]
    if not answers:
        return None
    predicted = normalize_answer(prediction)
    return float(any(predicted == answer for answer in answers))


def f1_score(prediction: str, gold: Iterable[str]) -> float | None:
    """Token-overlap F1 (bag of normalised words), best over gold answers; None without gold answers."""
    answers = [normalize_answer(g).split() for g in gold]
    if not answers:
        return None
    predicted = normalize_answer(prediction).split()
    return max(_token_f1(predicted, answer) for answer in answers)


def contains_answer(prediction: str, gold: Iterable[str]) -> float | None:
    """1.0 when some normalised gold answer occurs in the normalised prediction as whole words
    ("no" is not found in "north"); None without gold answers."""
    answers = [normalize_answer(g) for g in gold]
    if not answers:
        return None
    padded = f" {normalize_answer(prediction)} "
    return float(any(answer and f" {answer} " in padded for answer in answers))


def evidence_recall(gold_sources: Collection[str], cited: Iterable[str], retrieved: Iterable[str]) -> float | None:
    """Share of gold documents the run cited or kept as evidence; None without gold documents."""
    gold = set(gold_sources)
    if not gold:
        return None
    return len(gold & (set(cited) | set(retrieved))) / len(gold)


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
