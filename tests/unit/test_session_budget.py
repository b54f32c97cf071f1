"""A session's budget clamps each turn and stops the conversation when a ceiling is reached."""

import pytest

from quarry.graph.budget.limits import Limits
from quarry.graph.budget.session_budget import SessionBudgetSpent, SessionUsage, turn_limits

PER_QUESTION = Limits(max_seconds=60, max_hops=3, max_tokens=50_000, max_usd=0.25, finalize_reserve_tokens=500)
SESSION = Limits(max_seconds=300, max_hops=10, max_tokens=100_000, max_usd=1.0)


def test_a_fresh_session_gives_each_turn_its_own_limits():
    assert turn_limits(PER_QUESTION, SESSION, SessionUsage()) == PER_QUESTION


def test_what_is_left_clamps_the_next_turn():
    limits = turn_limits(PER_QUESTION, SESSION, SessionUsage(seconds=270, hops=9, tokens=99_800, usd=0.9))
    assert limits.max_seconds == pytest.approx(30) and limits.max_hops == 1 and limits.max_tokens == 200
    assert limits.max_usd == pytest.approx(0.1) and limits.finalize_reserve_tokens == 200


def test_dollars_spent_leave_free_models_only():
    assert turn_limits(PER_QUESTION, SESSION, SessionUsage(usd=1.5)).max_usd == 0.0


@pytest.mark.parametrize(
    ("used", "reason"),
    [
        (SessionUsage(seconds=299.5), "deadline"),
        (SessionUsage(hops=10), "hops"),
        (SessionUsage(tokens=100_000), "tokens"),
    ],
)
def test_a_spent_ceiling_stops_the_conversation(used, reason):
    with pytest.raises(SessionBudgetSpent) as spent:
        turn_limits(PER_QUESTION, SESSION, used)
    assert spent.value.reason == reason and "session's budget is spent" in str(spent.value)
