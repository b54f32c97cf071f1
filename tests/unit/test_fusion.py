from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from quarry.tools.config import FusionConfig
from quarry.tools.fusion import fuse
from quarry.tools.hits import Hit

CONFIG = FusionConfig(k=60, dense_weight=1.0, bm25_weight=1.0, kg_weight=0.5)
WHEN = datetime(2024, 1, 1, tzinfo=UTC)


def hit(chunk_id: int, score: float = 1.0) -> Hit:
    return Hit(chunk_id, f"d{chunk_id}", 0, "t", "s", "a", "d", WHEN, 0, 1, "x", score)


ranked_lists = st.dictionaries(
    st.sampled_from(["dense", "bm25", "kg"]),
    st.lists(st.integers(1, 30), max_size=15).map(lambda ids: [hit(i, 1.0 / (n + 1)) for n, i in enumerate(ids)]),
)


@settings(max_examples=200)
@given(ranked_lists)
def test_fusion_properties(ranked):
    fused = fuse(ranked, CONFIG)
    ids = [f.hit.chunk_id for f in fused]
    assert len(ids) == len(set(ids)), "a chunk appears once"
    assert set(ids) == {h.chunk_id for hits in ranked.values() for h in hits}
    assert [f.score for f in fused] == sorted((f.score for f in fused), reverse=True)
    reordered = dict(reversed(list(ranked.items())))
    assert fuse(reordered, CONFIG) == fused, "independent of the order retrievers are given in"
    assert fuse(ranked, CONFIG, limit=3) == fused[:3]


def test_hand_computed_scores_and_recorded_ranks():
    fused = fuse({"dense": [hit(1, 0.9), hit(2, 0.8)], "bm25": [hit(2, 7.0)], "kg": [hit(3, 1.0)]}, CONFIG)
    by_id = {f.hit.chunk_id: f for f in fused}
    assert by_id[2].score == 1 / 62 + 1 / 61
    assert by_id[1].score == 1 / 61 and by_id[3].score == 0.5 / 61
    assert [f.hit.chunk_id for f in fused] == [2, 1, 3]
    assert {n: (r.rank, r.score) for n, r in by_id[2].ranks.items()} == {"bm25": (1, 7.0), "dense": (2, 0.8)}
    assert by_id[2].hit.score == 0.8, "the dense copy of a hit is kept"


def test_ties_break_by_best_rank_then_chunk_id_and_duplicates_count_once():
    fused = fuse({"dense": [hit(5), hit(4)], "bm25": [hit(4), hit(5), hit(4)]}, CONFIG)
    assert fused[0].score == fused[1].score
    assert [f.hit.chunk_id for f in fused] == [4, 5]
    assert fused[0].ranks["bm25"].rank == 1


def test_more_agreement_never_scores_lower():
    alone = fuse({"dense": [hit(1)]}, CONFIG)[0].score
    agreed = fuse({"dense": [hit(1)], "bm25": [hit(1)]}, CONFIG)[0].score
    assert agreed > alone


def test_zero_weight_records_rank_without_scoring():
    [fused] = fuse({"kg": [hit(1)]}, FusionConfig(kg_weight=0.0))
    assert fused.score == 0.0 and fused.ranks["kg"].rank == 1
