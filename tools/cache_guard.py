"""The semantic cache's false-hit guard: two questions close in embedding space may still ask for
different things ("Is the Kittiwake safe to sail?" / "…unsafe to sail?" are 0.98 apart). A cached
answer is served only when the questions say the same thing word for word, up to inflection and
rewording that cannot change what is asked:

- every content word of each is in the other as the same lemma ("owns"/"owned", "outage"/"outages";
  lemmas from lemminflect's dictionary, never a shared prefix or a word-vector similarity, which
  admit antonyms and look-alikes: safe/unsafe/dangerous, contacted/contracted, promoted/demoted);
  only one of the two may add words, and only generic ones that name the kind of answer ("which
  *city*", "what *year*") or light verbs ("which port does X *use*");
- the same entities, numbers, dates and ordinals ("2023" vs "2024", "two" is "2", "first" vs "second");
- the same count of negations ("not", "never", "don't", "without": "unsafe" is a different word);
- the same relation words (before/after, from/into, only/all, more/less…: function words that a
  rewording keeps but a different question swaps);
- the same question words (who/when/where/why/how), a generic "what"/"which" standing for one only
  with a type word of its kind ("which team" for "who", "what year" for "when");
- the same roles: who does what to whom ("Who does Alice report to?" is not "Who reports to Alice?";
  "Which team is owned by X?" is not "Which team owns X?", but "X is owned by which team?" is).

Every rule errs towards a miss: a wrong miss costs one research run, a wrong hit serves a wrong
answer. Measured in bench/bench_cache_guard.py on a labelled near-miss set.
"""

import re
from dataclasses import dataclass
from typing import Literal

from lemminflect import getAllLemmas

from quarry.corpus.entities import entity_names
from quarry.tools.text import STOP_WORDS

_TOKEN = re.compile(r"\w+(?:['’]\w+)*")
_NEGATIONS = frozenset(
    "not no never none nobody nothing nowhere neither nor without except excluding cannot lack lacks lacking".split()
)
_RELATION_WORDS = frozenset(
    """
        above after against all any before below between both down during each every few fewer from into
        least less more most off once only onto out outside over same since than through till toward towards
        under until up upon within inside beyond other another either
    """.split()
)
# "own" is a stop word for search ("their own"), but here it is the verb of "Which team owns X?".
_FUNCTION_WORDS = (
    (STOP_WORDS | frozenset("ll re ve d m also please exactly currently".split())) - _RELATION_WORDS - {"own"}
)
_SPECIFIC = {"who": "who", "whom": "who", "whose": "who", "when": "when", "where": "where", "why": "why", "how": "how"}
_GENERIC = frozenset(["what", "which"])
_BE = frozenset("is are was were be been being".split())
_AUXILIARIES = _BE | frozenset("do does did will would can could should shall might must may has have had".split())
_NOUN_PHRASE_STARTS = frozenset(
    "the a an this that these those his her its their our my your i we you he she they it".split()
)
# Words a generic question word takes to name the kind of answer ("which team" asks "who").
_TYPE_WORDS = {
    **dict.fromkeys("team person people company organisation organization group engineer owner".split(), "who"),
    **dict.fromkeys("year date time day month".split(), "when"),
    **dict.fromkeys("city country place location region".split(), "where"),
    **dict.fromkeys("reason".split(), "why"),
    **dict.fromkeys("way method".split(), "how"),
    **dict.fromkeys("name kind type sort".split(), ""),
}
# Light verbs a rewording adds ("which port does PostgreSQL use", "what benefits does X have").
_LIGHT_WORDS = frozenset("use have get".split())
_ONES = "zero one two three four five six seven eight nine ten eleven twelve".split()
_ORDINALS = "zeroth first second third fourth fifth sixth seventh eighth ninth tenth eleventh twelfth".split()
_NUMBER_WORDS = {
    **{w: str(i) for i, w in enumerate(_ONES)},
    **{w: f"{i}th" for i, w in enumerate(_ORDINALS)},
    **{w: w for w in "thirteen fourteen fifteen sixteen seventeen eighteen nineteen twenty thirty forty".split()},
    **{w: w for w in "fifty sixty seventy eighty ninety hundred thousand million billion dozen half".split()},
    **{w: w for w in "last previous next latest earliest quarter q1 q2 q3 q4 h1 h2 fy".split()},
}
_MONTHS = "january february march april may june july august september october november december".split()
_CALENDAR = {
    **{m: m for m in _MONTHS},
    **{m[:3]: m for m in _MONTHS},
    "sept": "september",
    **{d: d for d in "monday tuesday wednesday thursday friday saturday sunday".split()},
    **{d: d for d in "yesterday today tomorrow tonight daily weekly monthly yearly annual quarterly".split()},
}
_ARGUMENT_QUESTION_WORDS = frozenset(["who", "whom", "what", "which"])
_COORDINATORS = frozenset(["and", "or", "&"])
_BEFORE_A_MONTH = frozenset("in of since until till before after during from by early late mid".split())
_FRONTED = re.compile(
    r"^([^,?]{3,}),\s*((?:who|whom|whose|what|which|when|where|why|how|is|are|was|were|do|does|did|has|have|had|can|will)\b.*)$",
    re.IGNORECASE,
)
_NUMBER = re.compile(r"^(\d+(?:[.,]\d+)*)(st|nd|rd|th|s|k|m|%)?$")


@dataclass(frozen=True, kw_only=True, slots=True)
class Verdict:
    agree: bool
    rule: str = ""
    """Which rule refused ("" when they agree): names a kind of difference, never a word of either question."""
    detail: str = ""
    """The words that differ (for the benchmark and debugging; may quote the cached question)."""

    @property
    def reason(self) -> str:
        return f"{self.rule}: {self.detail}" if self.detail else self.rule


@dataclass(frozen=True, kw_only=True, slots=True)
class Facts:
    """What a question pins down beyond its topic."""

    content: tuple[frozenset[str], ...]
    """Each content word as the set of its possible lemmas (its surface form among them)."""
    surface: tuple[str, ...]
    """The same words as written (casefolded)."""
    entities: frozenset[str]
    """Words of the names it mentions (casefolded)."""
    tokens: frozenset[str]
    numbers: frozenset[str]
    negations: int
    relations: frozenset[str]
    specific: frozenset[str]
    """Its specific question words (who/when/where/why/how)."""
    generic: bool
    """It asks "what" or "which"."""
    roles: tuple[str, ...]
    """Its arguments (question word "?" and names) in the order of who does what to whom."""
    passive: bool
    order: tuple[frozenset[str], ...]
    """The content words in the order they relate ("France's capital" read as "capital of France")."""
    positions: tuple[int, ...]
    """Where each content word stands among the tokens."""
    coordinated: frozenset[frozenset[str]]
    """Lemmas of word pairs joined by "and"/"or" ("between sleep and memory"): their order is free."""

    @classmethod
    def of(cls, question: str) -> "Facts":
        question = _unfront(question)
        written = [t.replace("’", "'") for t in _TOKEN.findall(question)]
        lowered = [t.casefold() for t in written]
        entities = _entity_words(question, written)
        content: list[frozenset[str]] = []
        surface, numbers, relations, specific = [], set(), set(), set()
        positions: list[int] = []
        negations, generic = 0, False
        for i, (token, as_written) in enumerate(zip(lowered, written, strict=True)):
            bare = token.removesuffix("'s")
            if bare == "may" and as_written[0].islower() and (i == 0 or lowered[i - 1] not in _BEFORE_A_MONTH):
                continue  # the modal, not the month
            if bare in _NEGATIONS or bare.endswith("n't"):
                negations += 1
            elif bare in _SPECIFIC:
                specific.add(_SPECIFIC[bare])
            elif bare in _GENERIC:
                generic = True
            elif bare in _RELATION_WORDS:
                relations.add(bare)
            elif (number := _number(bare)) is not None:
                numbers.add(number)
            elif bare not in _FUNCTION_WORDS:
                content.append(_lemmas(bare))
                surface.append(bare)
                positions.append(i)
        return cls(
            content=tuple(content),
            surface=tuple(surface),
            entities=frozenset(entities),
            tokens=frozenset(t.removesuffix("'s") for t in lowered),
            numbers=frozenset(numbers),
            negations=negations,
            relations=frozenset(relations),
            specific=frozenset(specific),
            generic=generic,
            roles=_roles(lowered, entities),
            passive=_passive(lowered),
            order=_possessives_last(lowered, content, positions),
            positions=tuple(positions),
            coordinated=frozenset(
                _lemmas(lowered[i - 1]) | _lemmas(lowered[i + 1])
                for i in range(1, len(lowered) - 1)
                if lowered[i] in _COORDINATORS
            ),
        )


def same_question(a: str, b: str) -> Verdict:
    """Whether a cached answer to `a` may be served for `b` (given their embeddings are close)."""
    fa, fb = Facts.of(a), Facts.of(b)
    unmatched = (fa.entities - fb.tokens) | (fb.entities - fa.tokens)
    if unmatched:
        return Verdict(agree=False, rule="entities differ", detail=" ".join(sorted(unmatched)))
    if fa.numbers != fb.numbers:
        return Verdict(agree=False, rule="numbers or dates differ", detail=" ".join(sorted(fa.numbers ^ fb.numbers)))
    if fa.negations != fb.negations:
        return Verdict(agree=False, rule="negation differs", detail=f"{fa.negations} / {fb.negations}")
    if fa.relations != fb.relations:
        return Verdict(agree=False, rule="relation words differ", detail=" ".join(sorted(fa.relations ^ fb.relations)))
    only_a, only_b = _unmatched(fa, fb), _unmatched(fb, fa)
    if only_a and only_b:
        return Verdict(agree=False, rule="content words differ", detail=f"{' '.join(only_a)} / {' '.join(only_b)}")
    added = only_a or only_b
    wordy = fa if only_a else fb
    extra = [w for w in added if _kind(w) is None and not (_lemmas(w) & _LIGHT_WORDS)]
    if extra:
        return Verdict(agree=False, rule="one asks for more", detail=" ".join(extra))
    if added and not _shares_a_topic_word(fa, fb):
        # "What does X use?" is not "What is X?": a word may be added only around a shared topic word.
        return Verdict(agree=False, rule="one asks for more", detail=" ".join(added))
    if not _same_question_words(fa, fb, wordy, added):
        detail = f"{'/'.join(sorted(fa.specific)) or 'what'} vs {'/'.join(sorted(fb.specific)) or 'what'}"
        return Verdict(agree=False, rule="question words differ", detail=detail)
    shared = set(fa.roles) & set(fb.roles)
    left, right = [r for r in fa.roles if r in shared], [r for r in fb.roles if r in shared]
    if left != right:
        return Verdict(agree=False, rule="roles differ", detail=f"{' '.join(left)} / {' '.join(right)}")
    swapped = _swapped_roles(fa, fb)
    if swapped:
        return Verdict(agree=False, rule="roles differ", detail=swapped)
    return Verdict(agree=True)


def _lemmas(word: str) -> frozenset[str]:
    """The word and its noun and verb lemmas: inflections meet ("leads"/"led"/"lead"), while adjectives
    keep their degree ("best" is not "good") and no derivation is undone ("unsafe" is not "safe")."""
    found = getAllLemmas(word)
    return frozenset([word, *found.get("NOUN", ()), *found.get("VERB", ()), *found.get("AUX", ())])


def _kind(word: str) -> str | None:
    """The kind of answer a type word names ("teams" → "who"), or None for any other word."""
    return next((_TYPE_WORDS[lemma] for lemma in sorted(_lemmas(word)) if lemma in _TYPE_WORDS), None)


def _shares_a_topic_word(fa: Facts, fb: Facts) -> bool:
    return any(
        word not in fa.entities and any(lemmas & other for other in fb.content)
        for word, lemmas in zip(fa.surface, fa.content, strict=True)
    )


def _unmatched(mine: Facts, theirs: Facts) -> list[str]:
    return [
        word
        for word, lemmas in zip(mine.surface, mine.content, strict=True)
        if not any(lemmas & other for other in theirs.content)
    ]


def _number(token: str) -> str | None:
    if token in _NUMBER_WORDS:
        return _NUMBER_WORDS[token]
    if token in _CALENDAR:
        return _CALENDAR[token]
    match = _NUMBER.match(token)
    if match is None:
        return None
    digits, suffix = match.group(1).replace(",", ""), match.group(2) or ""
    if suffix in ("st", "nd", "rd", "th"):
        return f"{int(float(digits))}th" if digits.isdigit() else digits + suffix
    return digits if suffix == "s" else digits + suffix  # the 1990s are 1990 (a decade), 5k stays 5k


def _same_question_words(fa: Facts, fb: Facts, wordy: Facts, added: list[str]) -> bool:
    if fa.specific == fb.specific:
        return fa.generic == fb.generic or bool(fa.specific)
    if len(fa.specific ^ fb.specific) != 1 or (fa.specific and fb.specific):
        return False
    plain, specific = (fa, fb) if not fa.specific else (fb, fa)
    wanted = next(iter(specific.specific))
    kinds = {_kind(w) for w in added} if plain is wordy else set()
    return plain.generic and wanted in kinds


def _entity_words(question: str, written: list[str]) -> set[str]:
    """The words of the names a question mentions; compared as words so "Tesla's CEO" = "CEO of Tesla"."""
    names = list(entity_names(question))
    # Capitalised words past the first, acronyms and code-like tokens name things the offline extractor may miss.
    for i, token in enumerate(written):
        if (i > 0 and token[:1].isupper()) or (token.isupper() and len(token) > 1) or re.search(r"\d", token):
            names.append(token)
    words = set()
    for name in names:
        for word in re.findall(r"\w[\w\-]*", name.casefold().replace("'s", "")):
            if word not in STOP_WORDS and word not in _SPECIFIC and word not in _GENERIC and _number(word) is None:
                words.add(word)
    return words


def _asked_role(tokens: list[str], asked_at: int, entities: set[str]) -> Literal["subject", "object", "copula"]:
    """What the question word stands for. An auxiliary right after it (and its type word) followed by a
    noun phrase asks for the object ("Who does Alice report to?", "Which team is Keel owned by?"; but
    "Who can help Alice?" asks for the subject). A copula ("What is the capital of X?") is symmetric."""
    if tokens[asked_at].endswith("'s"):
        return "copula"  # "What's the …"
    for j in range(asked_at + 1, min(asked_at + 4, len(tokens))):
        if tokens[j] in _AUXILIARIES:
            after = tokens[j + 1].removesuffix("'s") if j + 1 < len(tokens) else ""
            if tokens[j] in _BE and not _passive(tokens):
                return "copula"
            if after == "it":  # "Who was it that …": a cleft
                return "subject"
            return "object" if after in _NOUN_PHRASE_STARTS or after in entities else "subject"
    return "subject"


def _passive(tokens: list[str]) -> bool:
    return "by" in tokens and any(t in _BE for t in tokens)


def _unfront(question: str) -> str:
    """A phrase fronted before the question ("In 2019, did the court …") put back at its end."""
    match = _FRONTED.match(question.strip())
    return f"{match.group(2)} {match.group(1)}" if match else question


def _possessives_last(
    tokens: list[str], content: list[frozenset[str]], positions: list[int]
) -> tuple[frozenset[str], ...]:
    """Content words in order, an owner ("Ontario's") moved after the words it qualifies ("minimum wage")."""
    order = list(range(len(content)))
    for k, at in enumerate(positions):
        if tokens[at].endswith("'s") and k + 1 < len(positions) and positions[k + 1] == at + 1:
            end = k + 1
            while end + 1 < len(positions) and positions[end + 1] == positions[end] + 1:
                end += 1
            i = order.index(k)
            order[i : i + end - k + 1] = [*order[i + 1 : i + end - k + 1], k]
    return tuple(content[k] for k in order)


def _swapped_roles(fa: Facts, fb: Facts) -> str | None:
    """Two content words that trade places around a third ("What effect does caffeine have on sleep?" /
    "… sleep have on caffeine?"), or the same order in the other voice ("Which accounts were frozen by
    the bank?" / "Which accounts froze the bank?")."""
    left = [k for k in (_shared_key(lemmas, fb.order) for lemmas in fa.order) if k is not None]
    right = [k for k in (_shared_key(lemmas, fa.order) for lemmas in fb.order) if k is not None]
    left, right = list(dict.fromkeys(left)), list(dict.fromkeys(right))
    if len(left) != len(right) or len(left) < 3:
        return None
    if fa.passive != fb.passive:
        return f"{' '.join(left)} in both voices" if left == right else None
    differ = [i for i, (x, y) in enumerate(zip(left, right, strict=True)) if x != y]
    if len(differ) == 2:
        x, y = left[differ[0]], left[differ[1]]
        joined = any({x, y} <= pair for pair in fa.coordinated | fb.coordinated)
        # Words side by side in either question form one name or compound ("Tidewater API" / "API of Tidewater").
        compound = _adjacent(fa, x, y) or _adjacent(fb, x, y)
        if (x, y) == (right[differ[1]], right[differ[0]]) and not joined and not compound:
            return f"{x} ↔ {y}"
    return None


def _adjacent(f: Facts, x: str, y: str) -> bool:
    at = [next((p for p, lemmas in zip(f.positions, f.content, strict=True) if key in lemmas), -9) for key in (x, y)]
    return abs(at[0] - at[1]) == 1


def _shared_key(lemmas: frozenset[str], other: tuple[frozenset[str], ...]) -> str | None:
    return next((min(lemmas & theirs) for theirs in other if lemmas & theirs), None)


def _roles(tokens: list[str], entities: set[str]) -> tuple[str, ...]:
    """The question word ("?") and each name, in the order subject-first: a question word followed by
    do/does/did or a modal asks for the object ("Who does Alice report to?"), so it goes last; a
    passive ("… owned by …" with a form of "be") reverses the order."""
    roles: list[str] = []
    name: list[str] = []
    asked_at = -1
    for i, token in enumerate([*tokens, ""]):
        bare = token.removesuffix("'s")
        if bare in entities:
            name.append(bare)
            continue
        if name:
            roles.append(" ".join(name))
            name = []
        if asked_at < 0 and (bare in _SPECIFIC or bare in _GENERIC):
            asked_at = i
            if bare in _ARGUMENT_QUESTION_WORDS:  # not when/where/why/how: those ask for no participant
                roles.append("?")
    role = _asked_role(tokens, asked_at, entities) if asked_at >= 0 else "subject"
    if role == "copula":
        roles = [r for r in roles if r != "?"]
    elif role == "object":
        roles = [r for r in roles if r != "?"] + ["?"]
    if _passive(tokens):
        roles.reverse()
    return tuple(dict.fromkeys(roles))
