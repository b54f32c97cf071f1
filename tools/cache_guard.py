"""The semantic cache's false-hit guard: two questions close in embedding space may still ask for
different things. A cached answer is served only when the questions also agree on

- the entities they name ("Ledgerline" vs "Keel"),
- their numbers, years, months, quarters and ordinals ("2023" vs "2024", "first" vs "second"),
- negation ("which services do not use Keel" vs "which services use Keel"),
- direction ("when did X start" vs "when did X end": a word in one whose opposite is in the other),
- neither asks for more than the other: every content word of one is in the other except generic
  type words ("Which *city* is the capital…"); "Who leads the team that owns X?" is not "Which team
  owns X?",
- and are not a minimal pair: the same question with one or two content words swapped
  ("cancel my order" vs "cancel my subscription"). Real paraphrases restructure the sentence;
  a one-word swap in an otherwise identical question usually changes what is asked. A swap between
  forms of the same word ("lead"/"leads") is not a swap.

Every rule errs towards a miss: a wrong miss costs one research run, a wrong hit serves a wrong answer.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass
from difflib import SequenceMatcher

from quarry.corpus.entities import entity_names
from quarry.tools.text import STOP_WORDS, stem


def _root(word: str) -> str:
    """Inflections the light stemmer keeps apart ("using"/"use", "stopped"/"stop") brought together."""
    for suffix in ("ing", "ed", "es", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 2:
            word = word[: -len(suffix)]
            break
    if len(word) > 3 and word[-1] == word[-2] and word[-1] not in "aeiouls":
        word = word[:-1]
    return word[:-1] if len(word) >= 3 and word.endswith("e") else word


_WORD = re.compile(r"[\w'’]+")
_NUMBER = re.compile(r"^\d+(?:[.,]\d+)*(?:st|nd|rd|th|s|k|m|%)?$")
_NUMBER_WORDS = frozenset(
    """
        zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen
        seventeen eighteen nineteen twenty thirty forty fifty hundred thousand million billion first second
        third fourth fifth sixth seventh eighth ninth tenth dozen half quarter q1 q2 q3 q4 h1 h2
    """.split()
)
_CALENDAR = frozenset(
    """
        january february march april may june july august september october november december jan feb mar apr
        jun jul aug sep sept oct nov dec monday tuesday wednesday thursday friday saturday sunday yesterday
        today tomorrow weekly monthly yearly daily
    """.split()
)
_NEGATIONS = frozenset(
    """
        not no never none nobody nothing neither nor without except excluding cannot n't
    """.split()
)
_OPPOSITES = (
    ("start", "end"),
    ("begin", "end"),
    ("start", "finish"),
    ("start", "stop"),
    ("open", "close"),
    ("first", "last"),
    ("before", "after"),
    ("earliest", "latest"),
    ("oldest", "newest"),
    ("increase", "decrease"),
    ("rise", "fall"),
    ("grow", "shrink"),
    ("gain", "loss"),
    ("most", "least"),
    ("more", "less"),
    ("more", "fewer"),
    ("highest", "lowest"),
    ("largest", "smallest"),
    ("biggest", "smallest"),
    ("maximum", "minimum"),
    ("max", "min"),
    ("buy", "sell"),
    ("import", "export"),
    ("upload", "download"),
    ("input", "output"),
    ("inbound", "outbound"),
    ("add", "remove"),
    ("enable", "disable"),
    ("join", "leave"),
    ("hire", "fire"),
    ("win", "lose"),
    ("accept", "reject"),
    ("approve", "reject"),
    ("success", "failure"),
    ("succeed", "fail"),
    ("pass", "fail"),
    ("cause", "effect"),
    ("upstream", "downstream"),
    ("above", "below"),
    ("over", "under"),
    ("up", "down"),
    ("forward", "backward"),
    ("from", "to"),
    ("send", "receive"),
    ("debit", "credit"),
    ("parent", "child"),
    ("owner", "user"),
    ("primary", "secondary"),
    ("best", "worst"),
    ("cheapest", "dearest"),
    ("fastest", "slowest"),
    ("longest", "shortest"),
    ("early", "late"),
    ("past", "future"),
    ("north", "south"),
    ("east", "west"),
    ("internal", "external"),
    ("public", "private"),
    ("minimum", "maximum"),
    ("true", "false"),
    ("this", "next"),
    ("next", "previous"),
    ("current", "previous"),
    ("have", "lack"),
    ("with", "without"),
    ("create", "delete"),
    ("allow", "deny"),
    ("include", "exclude"),
)
_OPPOSITE: dict[str, set[str]] = {}
for _a, _b in _OPPOSITES:
    _OPPOSITE.setdefault(_a, set()).add(_b)
    _OPPOSITE.setdefault(_b, set()).add(_a)
_PREPOSITIONS = frozenset(_OPPOSITE) & STOP_WORDS
"""Kept for the opposites rule ("before"/"after"), but a rephrasing adds and drops them freely."""
_QUESTION_WORDS = frozenset(["who", "whom", "whose", "what", "which", "when", "where", "why", "how"])
# Words that only frame the question ("in what way", "on what date", "for what reason"): never a swap.
_FRAME = _QUESTION_WORDS | frozenset(
    _root(stem(w)) for w in ["way", "date", "year", "time", "reason", "process", "kind", "type", "sort"]
)
# Generic words a paraphrase may add to name what kind of answer it wants ("which city", "which team").
_TYPE_WORDS = frozenset(
    _root(stem(w))
    for w in [
        "city",
        "country",
        "place",
        "location",
        "located",
        "team",
        "company",
        "organisation",
        "organization",
        "person",
        "people",
        "engineer",
        "name",
        "called",
        "function",
        "purpose",
        "role",
        "thing",
        "way",
        "date",
        "year",
        "time",
        "reason",
        "process",
        "kind",
        "type",
        "sort",
    ]
)
# Light verbs and connectives rephrasing adds ("which port does X *use*", "what benefits does X *have*").
_LIGHT_WORDS = frozenset(
    _root(stem(w))
    for w in [
        "have",
        "use",
        "used",
        "work",
        "do",
        "done",
        "make",
        "serve",
        "stand",
        "cause",
        "regarding",
        "regard",
        "take",
        "get",
        "give",
        "become",
        "mean",
        "happen",
        "exist",
        "involve",
    ]
)
MORPHOLOGY_PREFIX = 4
"""Swapped words sharing this many leading letters are forms of one word (discover/discoverer)."""
SYNONYM_SIMILARITY = 0.6
"""Swapped words whose embeddings are at least this close are synonyms (built/constructed, closest/nearest)."""

WordSimilarity = Callable[[str, str], float]
MINIMAL_PAIR_SHARE = 0.6
"""A swap counts as a minimal pair when the unchanged content words are at least this share of the shorter question's."""


@dataclass(frozen=True)
class Facts:
    """What a question pins down, beyond its topic."""

    entities: frozenset[str]
    """Words of the names it mentions (casefolded)."""
    tokens: frozenset[str]
    """Every word, casefolded: a name written in lower case elsewhere still counts as mentioned."""
    numbers: frozenset[str]
    negated: bool
    asks: int
    """Question words: "who founded X and when?" asks two things."""
    words: tuple[str, ...]
    """Stemmed content words in order (function and question words dropped)."""
    surface: tuple[str, ...]
    """The same words as written, for judging a swap."""

    @classmethod
    def of(cls, question: str) -> "Facts":
        tokens = [t.replace("’", "'") for t in _WORD.findall(question.casefold())]
        words, surface = [], []
        numbers = set()
        negated = False
        asks = sum(1 for token in tokens if token in _QUESTION_WORDS)
        for token in tokens:
            if token.endswith("n't") or token in _NEGATIONS:
                negated = True
                continue
            bare = token.removesuffix("'s")
            if _NUMBER.match(bare) or bare in _NUMBER_WORDS or bare in _CALENDAR:
                numbers.add(bare.rstrip("s") if bare[:1].isdigit() and bare.endswith("s") else bare)
            if (bare in STOP_WORDS or bare in _QUESTION_WORDS) and bare not in _OPPOSITE:
                continue
            words.append(bare if bare in _OPPOSITE else _root(stem(bare)))
            surface.append(bare)
        every = frozenset(re.findall(r"\w[\w\-]*", question.casefold().replace("'s", "")))
        return cls(
            frozenset(_entity_words(question)), every, frozenset(numbers), negated, asks, tuple(words), tuple(surface)
        )


@dataclass(frozen=True)
class Verdict:
    agree: bool
    reason: str
    """Why they disagree ("" when they agree)."""


def same_question(a: str, b: str, similarity: WordSimilarity | None = None) -> Verdict:
    """Whether a cached answer to `a` may be served for `b` (given their embeddings are close).
    `similarity` (cosine of two words' embeddings) lets a synonym swap through; without it every
    one-word swap is a miss."""
    fa, fb = Facts.of(a), Facts.of(b)
    unmatched = (fa.entities - fb.tokens) | (fb.entities - fa.tokens)
    if unmatched:
        return Verdict(False, f"entities differ: {sorted(unmatched)}")
    if fa.numbers != fb.numbers:
        return Verdict(False, f"numbers or dates differ: {sorted(fa.numbers ^ fb.numbers)}")
    if fa.negated != fb.negated:
        return Verdict(False, "one is negated")
    if fa.asks != fb.asks and max(fa.asks, fb.asks) > 1:
        return Verdict(False, "one asks more than one thing")
    extra = _extension(fa.words, fb.words)
    if extra:
        return Verdict(False, f"one asks for more: {extra}")
    opposed = _opposed(set(fa.words), set(fb.words))
    if opposed:
        return Verdict(False, f"opposite terms: {opposed[0]} / {opposed[1]}")
    swap = _minimal_swap(fa, fb, similarity)
    if swap:
        return Verdict(False, f"one-word swap: {swap}")
    return Verdict(True, "")


def _entity_words(question: str) -> set[str]:
    """The words of the names a question mentions; compared as words so "Tesla's CEO" = "CEO of Tesla"."""
    names = list(entity_names(question))
    # Capitalised words past the first, acronyms and code-like tokens name things the offline extractor may miss.
    for i, token in enumerate(re.findall(r"\w[\w\-']*", question)):
        if (i > 0 and token[:1].isupper()) or (token.isupper() and len(token) > 1) or re.search(r"\d", token):
            names.append(token)
    words = set()
    for name in names:
        for word in re.findall(r"\w[\w\-]*", name.casefold().replace("'s", "")):
            if word not in STOP_WORDS and word not in _QUESTION_WORDS:
                words.add(word)
    return words


def _extension(a: tuple[str, ...], b: tuple[str, ...]) -> str | None:
    """The words one question adds when the other adds none (a refinement, not a rephrasing)."""
    only_a = [w for w in a if w not in b and w not in _TYPE_WORDS]
    only_b = [w for w in b if w not in a and w not in _TYPE_WORDS]
    if only_a and only_b:
        return None  # both sides reword: a rephrasing (swaps are judged separately)
    added = [w for w in only_a or only_b if w not in _LIGHT_WORDS and w not in _PREPOSITIONS]
    return " ".join(added) or None


def _opposed(a: set[str], b: set[str]) -> tuple[str, str] | None:
    for word in sorted(a - b):
        for opposite in _OPPOSITE.get(word, ()):
            if opposite in b and opposite not in a:
                return word, opposite
    return None


def _minimal_swap(fa: Facts, fb: Facts, similarity: WordSimilarity | None) -> str | None:
    a, b = fa.words, fb.words
    matcher = SequenceMatcher(a=a, b=b, autojunk=False)
    same = sum(block.size for block in matcher.get_matching_blocks())
    changes = [op for op in matcher.get_opcodes() if op[0] != "equal"]
    if same < MINIMAL_PAIR_SHARE * min(len(a), len(b)) and len(changes) != 1:
        return None  # restructured: a paraphrase, or a different question the embedding already separates
    for op, i1, i2, j1, j2 in changes:
        if op != "replace":
            continue
        left = {w for w in a[i1:i2] if w not in b and w not in _FRAME}
        right = {w for w in b[j1:j2] if w not in a and w not in _FRAME}
        if not (left and right and (i2 - i1) <= 2 and (j2 - j1) <= 2) or _same_word(left, right):
            continue
        written = " ".join(fa.surface[i1:i2]), " ".join(fb.surface[j1:j2])
        if similarity is not None and similarity(*written) >= SYNONYM_SIMILARITY:
            continue
        return f"{written[0]} → {written[1]}"
    return None


def _same_word(left: set[str], right: set[str]) -> bool:
    return all(any(_shared_prefix(x, y) >= MORPHOLOGY_PREFIX for y in right) for x in left)


def _shared_prefix(x: str, y: str) -> int:
    n = 0
    while n < min(len(x), len(y)) and x[n] == y[n]:
        n += 1
    return n
