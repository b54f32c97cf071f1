"""The cache guard: close questions that ask for something else are refused, rewordings pass."""

import pytest

from quarry.tools.cache_guard import same_question


@pytest.mark.parametrize(
    ("a", "b", "reason"),
    [
        ("When did the settlement outage start?", "When did the settlement outage end?", "opposite terms"),
        ("Cancel my order", "Cancel my subscription", "one-word swap"),
        ("Which team owns Ledgerline?", "Which team owns Keel?", "entities differ"),
        ("What triggered the March 2024 outage?", "What triggered the March 2023 outage?", "entities differ"),
        ("What were the top 3 causes of outages?", "What were the top five causes of outages?", "differ"),
        ("How many users signed up in January?", "How many users signed up in February?", "differ"),
        ("Which services depend on Keel?", "Which services do not depend on Keel?", "negated"),
        ("What services use Kafka?", "What services don't use Kafka?", "negated"),
        ("What is the maximum batch size?", "What is the minimum batch size?", "opposite terms"),
        ("How do I import data into PostgreSQL?", "How do I export data from PostgreSQL?", "opposite terms"),
        ("Which team owns Ledgerline?", "Who leads the team that owns Ledgerline?", "asks for more: lead"),
        ("Who founded Microsoft?", "Who founded Microsoft and when?", "more than one thing"),
        ("Which teams use Keel?", "Which teams stopped using Keel?", "asks for more: stop"),
    ],
)
def test_near_misses_are_refused_with_the_reason(a: str, b: str, reason: str):
    for first, second in ((a, b), (b, a)):
        verdict = same_question(first, second)
        assert not verdict.agree and reason in verdict.reason, (first, second, verdict)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Which team owns Ledgerline?", "which team owns ledgerline"),
        ("What is the capital of Australia?", "Which city is the capital of Australia?"),
        ("Who maintains the Tidewater service?", "Which team maintains the Tidewater service?"),
        ("What triggered the March 2024 settlement outage?", "What caused the settlement outage in March 2024?"),
        ("Who discovered penicillin?", "Who was the discoverer of penicillin?"),
        ("What is the default port of PostgreSQL?", "Which port does PostgreSQL use by default?"),
        ("When did the Berlin Wall fall?", "In what year did the Berlin Wall fall?"),
    ],
)
def test_rewordings_pass(a: str, b: str):
    assert same_question(a, b).agree and same_question(b, a).agree


def test_a_synonym_swap_passes_only_with_a_word_similarity():
    a, b = "When was the Eiffel Tower built?", "When was the Eiffel Tower constructed?"
    assert "one-word swap: built → constructed" in same_question(a, b).reason
    assert same_question(a, b, lambda x, y: 0.83).agree
    assert not same_question(a, b, lambda x, y: 0.2).agree
