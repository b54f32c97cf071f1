from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from quarry.corpus.tokens import count_tokens
from quarry.tools.hits import Hit
from quarry.tools.packing import format_block, pack

WHEN = datetime(2024, 1, 1, tzinfo=UTC)


def hit(chunk_id: int, text: str) -> Hit:
    return Hit(
        chunk_id,
        f"d{chunk_id}",
        0,
        f"Title {chunk_id}",
        f"/src/{chunk_id}.md",
        "a",
        "d",
        WHEN,
        10,
        10 + len(text),
        text,
        1.0,
    )


texts = st.text(alphabet=st.sampled_from("abc xyz.\n数é"), min_size=1, max_size=300)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 40), texts), max_size=20), st.integers(0, 400))
def test_never_exceeds_budget_keeps_order_and_whole_chunks(items, budget):
    hits = [hit(i, t) for i, t in items]
    packed = pack(hits, budget)
    assert count_tokens(packed.render()) <= packed.tokens_used <= budget
    ids = [p.hit.chunk_id for p in packed.items]
    assert len(ids) == len(set(ids))
    order = [h.chunk_id for h in hits]
    assert ids == sorted(ids, key=order.index), "packed items keep rank order"
    assert all(p.hit in hits for p in packed.items), "chunks are never cut"
    assert [p.marker for p in packed.items] == list(range(1, len(ids) + 1))


def test_skips_what_does_not_fit_and_tries_smaller_ones():
    big, small = hit(1, "word " * 200), hit(2, "short text")
    cost_small = count_tokens(format_block(1, small))
    packed = pack([big, small], cost_small)
    assert [p.hit.chunk_id for p in packed.items] == [2] and packed.dropped == [big]
    assert packed.render() == "[1] Title 2 (/src/2.md)\nshort text\n\n"
