"""Answer, evidence and budget metrics of `quarry eval qa`, on hand-computed cases."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from quarry.eval.qa_metrics import (
    DEADLINE_TOLERANCE_S,
    budget_violations,
    citation_precision,
    contains_answer,
    evidence_recall,
    exact_match,
    f1_score,
    lead_sentence,
    normalize_answer,
)
from quarry.graph.budget.limits import Limits


def test_squad_normalisation():
    assert normalize_answer("The  Payments-Core team!") == "paymentscore team"
    assert normalize_answer("An apple, a pear and THE plum.") == "apple pear and plum"
    assert normalize_answer("Theatre") == "theatre", "articles only as whole words"


def test_exact_match_is_the_best_over_gold_answers():
    assert exact_match("the Payments Core.", ["Ledgerline", "payments core"]) == 1.0
    assert exact_match("Payments Core owns it", ["Payments Core"]) == 0.0
    assert exact_match("anything", []) is None


def test_f1_hand_computed():
    # prediction tokens: payments core owns ledgerline (4); gold: payments core (2); common 2
    # precision 2/4, recall 2/2 → F1 = 2·0.5·1/1.5 = 2/3
    assert f1_score("Payments Core owns Ledgerline.", ["Payments Core"]) == pytest.approx(2 / 3)
    # best of two gold answers: the article goes, leaving 5 prediction tokens; "keel failover" shares 2
    # → P 2/5, R 1 → F1 = 0.8 / 1.4 = 4/7 (Redpanda scores 0)
    assert f1_score("A planned Keel failover in Frankfurt", ["Redpanda", "Keel failover"]) == pytest.approx(4 / 7)
    # repeated tokens count once per occurrence in both (bag of words)
    assert f1_score("seven seven years", ["seven years"]) == pytest.approx(2 * (2 / 3) * 1 / (2 / 3 + 1))
    assert f1_score("Oregon", ["Frankfurt"]) == 0.0
    assert f1_score("the", ["a"]) == 1.0, "both empty after normalisation: SQuAD counts equal"
    assert f1_score("x", []) is None


def test_contains_matches_whole_normalised_words():
    answer = "The trigger was a planned Keel failover in Frankfurt [1]."
    assert contains_answer(answer, ["a planned Keel failover in Frankfurt"]) == 1.0
    assert contains_answer(answer, ["Kafka", "keel FAILOVER"]) == 1.0
    assert contains_answer("Bo Chen leads Forecasting, based in Oregon.", ["Oregon"]) == 1.0
    assert contains_answer("It lies north of the river.", ["no"]) == 0.0, "'no' is not found inside 'north'"
    assert contains_answer("Anything at all.", ["the"]) == 0.0, "a gold answer that normalises to nothing never matches"
    assert contains_answer("x", []) is None


def test_contains_needs_the_whole_gold_answer_every_part_of_a_compound_one():
    gold = [("Redpanda", "ADR-015")]
    assert contains_answer("Beacon moved off Kafka, as ADR-015 decided.", gold) == 0.0, "a fragment is not the answer"
    assert contains_answer("Redpanda replaced Kafka; ADR-015 decided it.", gold) == 1.0
    assert contains_answer("Keel failed over.", ["a planned Keel failover in Frankfurt"]) == 0.0
    assert exact_match("Redpanda; ADR-015", gold) == 1.0 and f1_score("Redpanda", gold) == pytest.approx(2 / 3)


def test_lead_sentence_is_the_first_sentence_without_markers():
    assert lead_sentence("Dana Okafor [1]. The team is led by Dana Okafor [1].") == "Dana Okafor."
    assert exact_match(lead_sentence("Dana Okafor [1]. The team is led by Dana Okafor [1]."), ["Dana Okafor"]) == 1.0


def test_evidence_recall_over_what_was_found():
    assert evidence_recall(["a", "b"], ["a", "x"]) == 0.5
    assert evidence_recall(["a", "b"], ["b", "a"]) == 1.0
    assert evidence_recall(["a"], ["z"]) == 0.0
    assert evidence_recall([], ["a"]) is None


def test_citation_precision_over_distinct_cited_documents():
    assert citation_precision(["a", "b"], ["a", "a", "x"]) == 0.5, "a cited twice is one document"
    assert citation_precision(["a"], ["a"]) == 1.0
    assert citation_precision(["a"], ["x", "y"]) == 0.0
    assert citation_precision(["a"], []) is None, "nothing cited: undefined, not 0"
    assert citation_precision([], ["a"]) is None, "no gold sources: undefined"


def test_budget_violations_flag_each_ceiling():
    limits = Limits(max_usd=0.10, max_tokens=1000, max_hops=2, max_seconds=5)
    assert not budget_violations(limits, usd=0.10, tokens=1000, hops=2, seconds=5.0).any, "at the ceiling is within it"
    over = budget_violations(limits, usd=0.1000001, tokens=1001, hops=3, seconds=5.0 + DEADLINE_TOLERANCE_S + 0.01)
    assert over.as_dict() == {"usd": True, "tokens": True, "hops": True, "seconds": True} and over.any
    late = budget_violations(limits, usd=0, tokens=0, hops=1, seconds=5.0 + DEADLINE_TOLERANCE_S - 0.01)
    assert not late.any, "within the stated deadline tolerance"
    only_tokens = budget_violations(limits, usd=0, tokens=1500, hops=1, seconds=1)
    assert only_tokens.as_dict() == {"usd": False, "tokens": True, "hops": False, "seconds": False}


@given(st.text(max_size=40), st.lists(st.text(max_size=20), min_size=1, max_size=3))
def test_answer_metrics_are_bounded_and_exact_implies_the_rest(prediction, gold):
    em, f1, contains = exact_match(prediction, gold), f1_score(prediction, gold), contains_answer(prediction, gold)
    assert all(0.0 <= value <= 1.0 for value in (em, f1, contains))
    if em == 1.0:
        assert f1 == 1.0
        assert contains == 1.0 or not normalize_answer(prediction)
