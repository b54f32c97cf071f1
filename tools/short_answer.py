"""The short answer a question part asks for, read out of one evidence sentence (no model).

The entity for "who"/"which" (a name the part does not already hold), the place after "in"/"at"
for "where", the date for "when", the number with its unit for "how many/long", the complement of
"<head word> was …" for "what", and for "A or B?" the option the sentence names. None when the
sentence holds nothing of the kind; the offline model then leads with the sentence itself.
"""

import re
from collections.abc import Sequence

from quarry.corpus.entities import entity_names
from quarry.tools.question_parts import Part
from quarry.tools.text import content_terms

_MONTHS = r"(?:January|February|March|April|May|June|July|August|September|October|November|December)"
_DATE = re.compile(
    rf"\b(?:\d{{1,2}}\s+{_MONTHS}(?:\s+\d{{4}})?|{_MONTHS}(?:\s+\d{{1,2}},?)?(?:\s+\d{{4}})?|(?:1[0-9]|20)\d\d)\b"
)
_NUMBER_WORDS = (
    r"one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty|thirty|forty|fifty|"
    r"sixty|hundred|thousand|a\s+dozen"
)
_QUANTITY = re.compile(
    rf"\b(?:\d[\d,.]*%?|(?:{_NUMBER_WORDS})(?:[\s-](?:{_NUMBER_WORDS}))?)"
    r"(?:\s+(?:per\s+)?(?!and\b|or\b|the\b|of\b|in\b|on\b|at\b|to\b|for\b|by\b|with\b)[a-z%]+){0,3}"
)
_YEAR = re.compile(r"\b(?:1[0-9]|20)\d\d\b")
_PLACE = re.compile(
    r"\b(?:in|at|from|near)\s+(?:the\s+)?(?:city\s+of\s+)?(?P<place>[A-Z][\w'’.-]*(?:\s+[A-Z][\w'’.-]*)*)"
)
_COPULA = re.compile(r"\b(?:is|was|are|were)\s+(?P<complement>[^,;:()]+)")
_OPTIONS = re.compile(r",?\s*(?P<a>[^,]+?)\s+or\s+(?P<b>[^,?]+)\s*$")
MAX_COMPLEMENT_WORDS = 8


def short_answer(part: Part, sentence: str) -> str | None:
    options = _options(part.text)
    if options:
        named = [o for o in options if o.casefold() in sentence.casefold()]
        return named[0] if len(named) == 1 else None
    if part.kind == "time":
        pattern = _YEAR if "year" in part.text.casefold() else _DATE
        match = pattern.search(sentence)
        return match.group() if match else None
    if part.kind == "number":
        asked = part.text.casefold()
        return next(
            (m.group().strip() for m in _QUANTITY.finditer(sentence) if m.group().casefold() not in asked), None
        )
    if part.kind == "place":
        asked = part.text.casefold()
        return next(
            (m.group("place") for m in _PLACE.finditer(sentence) if m.group("place").casefold() not in asked), None
        )
    new_names = [n for n in entity_names(sentence) if n.casefold() not in part.text.casefold()]
    if part.kind == "person":
        people = [n for n in new_names if len(n.split()) >= 2]
        ranked = people or new_names
        return ranked[0] if ranked else None
    if part.kind == "entity":
        complement = _complement(part, sentence)
        return complement or (new_names[0] if new_names else None)
    return None


_EARLIER = re.compile(r"\b(?:first|earlier|earliest|older|oldest|before)\b", re.IGNORECASE)
_LATER = re.compile(
    r"\b(?:later|latest|last|younger|youngest|newer|newest|more recent|most recent|after)\b", re.IGNORECASE
)


def by_date(part: Part, sentences: Sequence[str]) -> str | None:
    """ "Which came first, A or B?": the option whose sentences give the earliest year (latest for "later",
    "younger"); None without such a cue or without a year for both."""
    options = _options(part.text)
    earlier, later = _EARLIER.search(part.text), _LATER.search(part.text)
    if len(options) != 2 or bool(earlier) == bool(later):
        return None
    years: dict[str, int] = {}
    for option in options:
        found = [int(y) for s in sentences if option.casefold() in s.casefold() for y in _YEAR.findall(s)]
        if not found:
            return None
        years[option] = min(found)
    pick = min if earlier else max
    return pick(options, key=lambda o: years[o])


def yes_or_no(part: Part, sentences: Sequence[str]) -> str:
    """A yes/no part ("Are both A and B American?"): "Yes" when, for every name it asks about, one of
    the sentences naming it also holds all the part's other words; else "No"."""
    # A capitalised run may swallow the property ("Neil Jordan American"): a name is its first two words.
    names = [" ".join(n.split()[:2]) for n in part.names if len(n) > 1]
    if not names:
        return "Yes"
    others = part.focus - content_terms(" ".join(names))
    for name in names:
        about = [s for s in sentences if name.casefold() in s.casefold()]
        if not any(others <= content_terms(s) for s in about):
            return "No"
    return "Yes"


def _complement(part: Part, sentence: str) -> str | None:
    """ "The trigger was a planned Keel failover" answers "What triggered …?" with what follows "was"."""
    match = _COPULA.search(sentence)
    if match is None or part.head not in content_terms(sentence[: match.start()]):
        return None
    words = match.group("complement").strip(" .").split()
    if not words or words[0].endswith(("ed", "ing")) or len(words) > MAX_COMPLEMENT_WORDS:
        return None
    return " ".join(words)


def _options(text: str) -> list[str]:
    match = _OPTIONS.search(text)
    if match is None:
        return []
    a = match.group("a").strip()
    names = entity_names(a)
    first = names[-1] if names else a
    return [first, match.group("b").strip(" ?")]
