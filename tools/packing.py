"""Fills a token budget with evidence, best first, whole chunks only (citation offsets stay valid).

Policy: walk the candidates in rank order; take each one whose block (citation header + text)
fits in what is left; skip one that does not and keep trying smaller ones further down. The text
counted is exactly the text `format_block` produces, so the prompt cannot be larger than counted.
"""

from collections.abc import Sequence
from dataclasses import dataclass

from quarry.corpus.tokens import count_tokens
from quarry.tools.hits import Hit


@dataclass(frozen=True)
class PackedItem:
    marker: int
    """The citation number the model sees: [marker]."""
    hit: Hit
    tokens: int


@dataclass(frozen=True)
class PackedContext:
    items: list[PackedItem]
    tokens_used: int
    dropped: list[Hit]

    def render(self) -> str:
        return "".join(format_block(item.marker, item.hit) for item in self.items)


def format_block(marker: int, hit: Hit) -> str:
    return f"[{marker}] {hit.title} ({hit.source})\n{hit.text}\n\n"


def pack(hits: Sequence[Hit], token_budget: int) -> PackedContext:
    items: list[PackedItem] = []
    dropped: list[Hit] = []
    used = 0
    seen: set[int] = set()
    for hit in hits:
        if hit.chunk_id in seen:
            continue
        seen.add(hit.chunk_id)
        cost = count_tokens(format_block(len(items) + 1, hit))
        if used + cost <= token_budget:
            items.append(PackedItem(len(items) + 1, hit, cost))
            used += cost
        else:
            dropped.append(hit)
    return PackedContext(items, used, dropped)
