"""Offline entity and relation extraction for the knowledge graph (no model, no network).

Entities: runs of capitalised words ("Payments Core", "Dana Okafor"), identifiers with digits or
capitals ("ADR-015", "TLS"), the document's title, and gazetteer names from config. Junk is
dropped: a lone sentence-initial function word ("The", "When"), months and weekdays.
Relations: two entities in one sentence are related when they are near (each with the next
NEARBY_ENTITIES after it); the words between neighbours, when few, become the label ("is owned by
the" → "owned by"), otherwise "co-mention". The title relates to the document's first
MAX_TITLE_RELATIONS entities ("mentions"). An LLM extractor can implement `EntityExtractor` later.

Bounds, so a hostile list of names cannot explode the graph (20,000 names joined by "and" in one
240 KB document made 502k relation rows): per sentence at most NEARBY_ENTITIES × entities, per
chunk MAX_CHUNK_RELATIONS, per document MAX_DOCUMENT_RELATIONS (title relations included).
"""

import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from quarry.corpus.chunking import Chunk

_CAPITALISED = r"(?:[A-Z][\w'’.-]*[\w]|[A-Z])"
_CONNECTOR = r"(?:of|de|van|von|der|la|le)"
_SPAN = re.compile(
    rf"\b{_CAPITALISED}(?:[ \t]+(?:{_CONNECTOR}[ \t]+)?{_CAPITALISED})*|\b[A-Z]{{2,}}[\w-]*\d[\w-]*|\b\w+-\d[\w-]*"
)
_SENTENCE = re.compile(r"[^.!?\n]+(?:[.!?]+|$)")
_LABEL_WORDS = re.compile(r"[a-z][a-z-]*")
_DROP_FROM_LABEL = frozenset(
    """
        is are was were be been the a an its their his her this that which who and also
    """.split()
)
_JUNK = frozenset(
    """
        the a an it its this that these those there here when where what which who whom why how if in on at by
        for from to of and or but not no yes as after before during until since every each all any some our we
        you they he she i my your his her their january february march april may june july august september
        october november december monday tuesday wednesday thursday friday saturday sunday status actions
        members note notes see also nobody everyone someone anyone none both most many several other others
    """.split()
)
MAX_LABEL_WORDS = 5
NEARBY_ENTITIES = 8
MAX_CHUNK_RELATIONS = 256
MAX_TITLE_RELATIONS = 512
MAX_DOCUMENT_RELATIONS = 4096


@dataclass(frozen=True)
class EntityMention:
    key: str
    name: str
    kind: str
    """name, identifier, title or gazetteer."""
    chunk_ordinal: int
    start_char: int
    end_char: int
    """Offsets into the document text, like chunk offsets."""


@dataclass(frozen=True)
class EntityRelation:
    source_key: str
    target_key: str
    label: str
    chunk_ordinal: int


@dataclass(frozen=True)
class Extraction:
    mentions: list[EntityMention]
    relations: list[EntityRelation]
    names: dict[str, tuple[str, str]]
    """key → (display name, kind) for every entity extracted."""


class EntityExtractor(Protocol):
    def extract(self, title: str, text: str, chunks: Sequence[Chunk]) -> Extraction: ...


def entity_key(name: str) -> str:
    """Identity of an entity: casefolded, whitespace collapsed, possessive dropped."""
    name = re.sub(r"['’]s$", "", name.strip())
    return " ".join(name.casefold().split())


class OfflineExtractor:
    def __init__(self, gazetteer: Sequence[str] = ()) -> None:
        self._gazetteer = [
            (g, re.compile(rf"(?<!\w){re.escape(g)}(?!\w)", re.IGNORECASE)) for g in gazetteer if g.strip()
        ]

    def extract(self, title: str, text: str, chunks: Sequence[Chunk]) -> Extraction:
        names: dict[str, tuple[str, str]] = {}
        title_key = entity_key(title)
        names[title_key] = (title.strip(), "title")
        mentions: list[EntityMention] = []
        relations: list[EntityRelation] = []
        in_document: dict[str, None] = {}  # in order of first appearance
        for chunk in chunks:
            in_chunk: dict[EntityRelation, None] = {}
            for sentence in _SENTENCE.finditer(chunk.text):
                found = self._sentence_entities(sentence.group(), chunk.start_char + sentence.start(), text)
                for key, name, kind, start, end in found:
                    names.setdefault(key, (name, kind))
                    mentions.append(EntityMention(key, name, kind, chunk.ordinal, start, end))
                    in_document.setdefault(key)
                for relation in _sentence_relations(found, text, chunk.ordinal):
                    if len(in_chunk) == MAX_CHUNK_RELATIONS:
                        break
                    in_chunk.setdefault(relation)
            relations.extend(in_chunk)
        titled = [key for key in in_document if key != title_key][:MAX_TITLE_RELATIONS]
        relations = relations[: MAX_DOCUMENT_RELATIONS - (len(titled) if chunks else 0)]
        for chunk in chunks[:1]:
            # The title is not in the body text: its mention spans the first chunk, which stands for the document.
            mentions.append(
                EntityMention(title_key, title.strip(), "title", chunk.ordinal, chunk.start_char, chunk.end_char)
            )
            for key in sorted(titled):
                relations.append(EntityRelation(title_key, key, "mentions", chunk.ordinal))
        return Extraction(mentions, relations, names)

    def _sentence_entities(self, sentence: str, offset: int, text: str) -> list[tuple[str, str, str, int, int]]:
        found: dict[int, tuple[str, str, str, int, int]] = {}
        for match in _SPAN.finditer(sentence):
            skip = _leading_junk_length(match.group())
            name = match.group()[skip:]
            if not name:
                continue
            start = match.start() + skip
            if _is_junk(name, text, at_sentence_start=sentence[:start].strip() in ("", "#", "##", "-", "*")):
                continue
            kind = "identifier" if any(c.isdigit() for c in name) or name.isupper() else "name"
            found[start] = (entity_key(name), name, kind, offset + start, offset + start + len(name))
        for name, pattern in self._gazetteer:
            for match in pattern.finditer(sentence):
                if not any(s <= match.start() < s + (e - b) for s, (_, _, _, b, e) in found.items()):
                    found[match.start()] = (
                        entity_key(name),
                        name,
                        "gazetteer",
                        offset + match.start(),
                        offset + match.end(),
                    )
        return [found[s] for s in sorted(found)]


def entity_names(text: str) -> list[str]:
    """The entity names the offline extractor finds in `text`, in order of first appearance."""
    names: dict[str, str] = {}
    extractor = OfflineExtractor()
    for sentence in _SENTENCE.finditer(text):
        for key, name, _, _, _ in extractor._sentence_entities(sentence.group(), sentence.start(), text):
            names.setdefault(key, name)
    return list(names.values())


def _sentence_relations(found: list[tuple[str, str, str, int, int]], text: str, ordinal: int) -> list[EntityRelation]:
    """Each entity with the next NEARBY_ENTITIES after it: linear in the sentence, not quadratic."""
    relations = []
    for i, (key_a, _, _, _, end_a) in enumerate(found):
        for key_b, _, _, start_b, _ in found[i + 1 : i + 1 + NEARBY_ENTITIES]:
            if key_a == key_b:
                continue
            label = _label(text[end_a:start_b]) if (key_b == found[i + 1][0]) else None
            relations.append(EntityRelation(key_a, key_b, label or "co-mention", ordinal))
    return relations


def _label(between: str) -> str | None:
    words = [w for w in _LABEL_WORDS.findall(between) if w not in _DROP_FROM_LABEL]
    if not words or len(words) > MAX_LABEL_WORDS or re.search(r"[;:()]", between):
        return None
    return " ".join(words)


def _leading_junk_length(span: str) -> int:
    """Characters to drop from the front of a span so it starts at its first non-junk word."""
    for word in re.finditer(r"\S+", span):
        if word.group().casefold() not in _JUNK:
            return word.start()
    return len(span)


def _is_junk(name: str, text: str, *, at_sentence_start: bool) -> bool:
    words = name.split()
    if len(name) < 2 or all(w.casefold() in _JUNK for w in words):
        return True
    # A lone word capitalised only because it opens a sentence: the document also uses it in lower case.
    if at_sentence_start and len(words) == 1 and name[1:].islower():
        lower = name.lower()
        if _WORD.fullmatch(lower):  # the usual case: a set lookup, not a scan of the text per sentence
            return lower in _words_of(text)
        return re.search(rf"\b{re.escape(lower)}\b", text) is not None
    return False


_WORD = re.compile(r"\w+")


@functools.lru_cache(maxsize=1)
def _words_of(text: str) -> frozenset[str]:
    """Every maximal run of word characters in `text`: a word is in it exactly when a whole-word search finds it."""
    return frozenset(_WORD.findall(text))
