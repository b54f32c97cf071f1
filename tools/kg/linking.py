"""Finds the entities a query names: exact key, then alias, then fuzzy match on longer words, all
within one reader's view (an unreadable entity can neither be linked nor shadow a readable one)."""

import difflib
from dataclasses import dataclass

from quarry.corpus.entities import entity_key
from quarry.tools.kg.graph import ReaderView
from quarry.tools.text import STOP_WORDS, tokenize

MAX_NGRAM = 6


@dataclass(frozen=True)
class LinkedEntity:
    node: int
    surface: str
    how: str
    """exact, alias or fuzzy."""


def link_entities(query: str, view: ReaderView, *, fuzzy_threshold: float) -> list[LinkedEntity]:
    tokens = tokenize(query, stop_words=False)
    linked: dict[int, LinkedEntity] = {}
    covered: set[int] = set()
    for size in range(min(MAX_NGRAM, len(tokens)), 0, -1):  # longest names first
        for start in range(len(tokens) - size + 1):
            span = range(start, start + size)
            if covered & set(span):
                continue
            phrase = entity_key(" ".join(tokens[start : start + size]))
            if size == 1 and phrase in STOP_WORDS:
                continue
            for index, how in ((view.by_key, "exact"), (view.aliases, "alias")):
                node = index.get(phrase)
                if node is not None:
                    linked.setdefault(node, LinkedEntity(node, phrase, how))
                    covered.update(span)
                    break
    leftovers = [t for i, t in enumerate(tokens) if i not in covered and len(t) >= 5 and t not in STOP_WORDS]
    for token in leftovers:
        candidates = view.fuzzy_buckets.get(token[:2], [])
        for match in difflib.get_close_matches(token, candidates, n=1, cutoff=fuzzy_threshold):
            node = view.by_key[match]
            linked.setdefault(node, LinkedEntity(node, token, "fuzzy"))
    return list(linked.values())
