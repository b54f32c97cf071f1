import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from quarry.eval.metrics import all_found_at, dedupe, mean_ci95, ndcg_at, percentile, recall_at, reciprocal_rank


def test_hand_computed_values():
    ranked = ["d3", "d1", "d9", "d2"]
    relevant = {"d1": 2, "d2": 1}
    assert recall_at(ranked, relevant, 2) == 0.5
    assert recall_at(ranked, relevant, 4) == 1.0
    assert reciprocal_rank(ranked, relevant) == 0.5
    dcg = 2 / math.log2(3) + 1 / math.log2(5)
    idcg = 2 / math.log2(2) + 1 / math.log2(3)
    assert ndcg_at(ranked, relevant, 10) == pytest.approx(dcg / idcg)
    assert all_found_at(ranked, relevant, 3) == 0.0 and all_found_at(ranked, relevant, 4) == 1.0


def test_dedupe_keeps_first_position():
    assert dedupe(["a", "b", "a", "c", "b"]) == ["a", "b", "c"]


@given(
    st.lists(st.sampled_from("abcdefgh"), unique=True, max_size=8),
    st.dictionaries(st.sampled_from("abcdefgh"), st.integers(1, 3), min_size=1),
)
def test_metrics_are_bounded_and_perfect_ranking_scores_one(ranked, relevant):
    for value in (recall_at(ranked, relevant, 5), ndcg_at(ranked, relevant, 5), reciprocal_rank(ranked, relevant)):
        assert 0.0 <= value <= 1.0 + 1e-12
    ideal = sorted(relevant, key=lambda d: -relevant[d])
    assert ndcg_at(ideal, relevant, 10) == pytest.approx(1.0)


def test_percentile_and_interval():
    assert percentile([1, 2, 3, 4], 50) == 2.5
    assert percentile([5.0], 95) == 5.0 and percentile([], 50) == 0.0
    mean, half = mean_ci95([1.0, 1.0, 1.0])
    assert (mean, half) == (1.0, 0.0)
