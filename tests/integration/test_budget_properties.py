"""Property: whatever the limits, latencies and reported usages, a run never spends past its
ceilings, never runs more hops than allowed, and always ends with an answer and the right reason."""

import asyncio
import random
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from quarry.graph.budget.limits import Limits
from quarry.graph.engine import ResearchRequest
from tests.integration.test_research_claude import engine
from tests.support.fakes.anthropic_server import FakeAnthropic
from tests.support.fakes.research_replies import plausible_reply
from tests.support.helpers import assert_within_limits

QUESTIONS = [
    "Which team owns Ledgerline?",
    "Who leads the team that owns the service that failed in the March 2024 settlement outage?",
    "What rate limit does Harbor Gate apply per customer?",
]


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeAnthropic]:
    server = FakeAnthropic().start()
    yield server
    server.stop()


limits_strategy = st.builds(
    Limits,
    max_seconds=st.floats(0.3, 3.0),
    max_hops=st.integers(1, 3),
    max_tokens=st.integers(50, 20_000),
    max_usd=st.one_of(st.just(0.0), st.floats(0.0, 0.02)),
)


@settings(max_examples=25, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    limits=limits_strategy,
    question=st.sampled_from(QUESTIONS),
    latency=st.floats(0.0, 0.4),
    seed=st.integers(0, 2**16),
    llm_rerank=st.booleans(),
)
def test_ceilings_hold_and_every_run_answers(sample_components, fake, limits, question, latency, seed, llm_rerank):
    rng = random.Random(seed)
    fake.responder = lambda body: plausible_reply(body, rng, delay_s=rng.uniform(0, latency))

    async def run():
        async with engine(sample_components, fake, llm_rerank=llm_rerank) as research:
            return await research.run(ResearchRequest(question=question, budget=limits))

    answer = asyncio.run(run()).answer
    assert_within_limits(answer, limits)
    if answer.stopped_by == "hops":
        assert answer.hops == limits.max_hops
    with sample_components.db.transaction() as conn:
        row = conn.execute(
            "SELECT status, coalesce(sum(s.usd), 0) AS usd FROM runs r LEFT JOIN spend s ON s.run_id = r.id"
            " WHERE r.id = %s GROUP BY r.status",
            (answer.run_id,),
        ).fetchone()
    assert row["status"] == ("partial" if answer.partial else "complete")
    assert row["usd"] == pytest.approx(answer.spend.usd, abs=1e-12), "the ledger holds every cent the answer reports"
