"""The parts of a question and whether cited sentences answer each one (lexical, no model).

"Who leads the team that owns Heron, and where is that team based?" has two parts; each asks for a
kind of thing (a person, a place). A part counts as answered when one verified, cited sentence
(read with the titles of the passages it cites) covers the part's words, names every entity the
part names (somewhere in the cited sentences), and holds something of the kind asked for that the
part does not already name: a new name for "who"/"which", a place after "in"/"at" for "where", a
date for "when", a number for "how many". The research loop keeps searching for the parts still
open and stops once none is; the answer reports them (`answered`, `unanswered`).
"""

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from quarry.corpus.entities import entity_names
from quarry.tools.text import content_terms, stem, tokenize

Kind = Literal["person", "place", "time", "number", "yesno", "entity"]

_CLAUSE = re.compile(r",?\s+\b(?:and|but)\s+(?=(?:who|what|which|when|where|why|how)\b)", re.IGNORECASE)
_WH = re.compile(
    r"^\s*(?P<wh>who(?:m|se)?|where|when|what\s+year|what\s+date|how\s+(?:many|much|long|old|far|often)"
    r"|which|what|why|how|is|are|was|were|do|does|did|can|could|has|have|had|will|would|should)\b",
    re.IGNORECASE,
)
_YES_NO = frozenset("is are was were do does did can could has have had will would should".split())
_FRAME = frozenset(content_terms("many much long old far often kind type name list tell give describe explain"))

_PLACE = re.compile(
    r"\b(?:in|at|from|near|based|located|headquartered|sits)\s+(?:the\s+)?(?:city\s+of\s+)?[A-Z][\w'’-]+"
)
_YEAR = re.compile(r"\b(?:1[0-9]|20)\d\d\b")
_MONTH = re.compile(
    r"\b(?:January|February|March|April|May|June|July|August|September|October|November|December)\b", re.IGNORECASE
)
_NUMBER = re.compile(
    r"\b(?:\d[\d,.]*|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|forty|fifty|"
    r"hundred|thousand|million|billion|dozen)\b",
    re.IGNORECASE,
)
_YES_NO_MIN_COVER = 0.6


@dataclass(frozen=True, kw_only=True, slots=True)
class Part:
    text: str
    """The clause as asked ("where is that team based")."""
    kind: Kind
    focus: frozenset[str]
    """Stemmed content words, without the question and frame words."""
    names: tuple[str, ...]
    """Entities the clause names; the answer must reach each one."""
    head: str = ""
    """The first focus word ("lead" in "who leads the team…"): the answering sentence must have it."""
    kind_noun: str = ""
    """The noun naming the kind of answer ("team" in "which team owns X"); an answer need not repeat it."""


@dataclass(frozen=True, kw_only=True, slots=True)
class CitedSentence:
    text: str
    """A verified claim that kept at least one citation."""
    titles: str = ""
    """The titles of the passages it cites (a sentence is about its page's subject)."""


def question_parts(question: str) -> tuple[Part, ...]:
    """The clauses of a compound question ("…, and where …?"); a simple question is one part."""
    clauses = [c.strip(" ,?") for c in _CLAUSE.split(question.strip()) if c.strip(" ,?")]
    return tuple(_part(c) for c in clauses or [question.strip(" ?")])


def open_parts(parts: Sequence[Part], cited: Sequence[CitedSentence]) -> tuple[Part, ...]:
    """The parts no cited sentence answers."""
    return tuple(p for p in parts if not answers(p, cited))


def answers(part: Part, cited: Sequence[CitedSentence]) -> bool:
    """The cited sentences together cover the part's words and reach every entity it names (a chain
    of hops), and one of them covers its head word and holds the kind of thing asked for."""
    if not cited:
        return False
    everything = " ".join(f"{c.text} {c.titles}" for c in cited)
    if any(name.casefold() not in everything.casefold() for name in part.names):
        return False
    focus = part.focus - {part.kind_noun}
    head = "" if part.head == part.kind_noun else part.head
    covered = len(focus & content_terms(everything))
    if part.kind == "yesno":
        return not focus or covered / len(focus) >= _YES_NO_MIN_COVER
    if focus and covered < max(1, (len(focus) + 1) // 2):
        return False
    return any((not head or head in content_terms(f"{c.text} {c.titles}")) and _holds_kind(part, c.text) for c in cited)


def _holds_kind(part: Part, text: str) -> bool:
    asked = {n.casefold() for n in part.names} | {t.casefold() for t in tokenize(part.text, stop_words=False)}
    if part.kind == "place":
        return any(m.group().split()[-1].casefold() not in asked for m in _PLACE.finditer(text))
    if part.kind == "time":
        return bool(_YEAR.search(text) or _MONTH.search(text))
    if part.kind == "number":
        return any(m.group().casefold() not in asked for m in _NUMBER.finditer(text))
    new_names = [n for n in entity_names(text) if n.casefold() not in part.text.casefold()]
    if part.kind == "person":
        return any(len(n.split()) >= 2 for n in new_names) or bool(new_names and "by " in text)
    return bool(new_names) or bool(_NUMBER.search(text))


def _part(clause: str) -> Part:
    match = _WH.match(clause)
    wh = " ".join(match.group("wh").casefold().split()) if match else ""
    kind = _kind(wh)
    rest = clause[match.end() :] if match else clause
    words = [stem(t) for t in tokenize(rest) if stem(t) not in _FRAME]
    # "which team owns X": "team" names the kind of answer, which the answer need not repeat
    # ("Payments Core owns X"), so `answers` neither requires it nor takes it as the head.
    kind_noun = words[0] if wh in ("which", "what") and words and _asks_for_a_kind(rest) else ""
    return Part(
        text=clause,
        kind=kind,
        focus=frozenset(words),
        names=tuple(re.sub(r"['’]s$", "", name) for name in entity_names(rest)),
        head=words[0] if words else "",
        kind_noun=kind_noun,
    )


def _asks_for_a_kind(rest: str) -> bool:
    """Whether the word after "which"/"what" is a common noun ("team", "vendor"), not a verb ("is")
    or a name ("Project Albatross")."""
    first = rest.split()[:1]
    return bool(first) and first[0].islower() and bool(tokenize(first[0]))


def _kind(wh: str) -> Kind:
    if wh in ("who", "whom", "whose"):
        return "person"
    if wh == "where":
        return "place"
    if wh in ("when", "what year", "what date"):
        return "time"
    if wh.startswith("how ") and wh != "how":
        return "number"
    if wh in _YES_NO:
        return "yesno"
    return "entity"
