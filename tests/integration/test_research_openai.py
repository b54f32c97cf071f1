"""The research loop on an OpenAI-compatible endpoint (OpenAI, Ollama, vLLM, ...): the real client
against a fake chat completions API on loopback, the real graph, retrieval and ledger. Budgets
hold as on Claude's path; a local model's missing usage is estimated; a mixed setup (local cheap
tier, Claude synthesis) attributes spend per model and node; a model that ignores the reply
format ends in a clean partial answer naming it."""

import asyncio
import random
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from quarry.graph.budget.limits import Limits
from quarry.graph.engine import ResearchRequest, RunResult
from quarry.tools.llm.pricing import Usage, cost_usd
from tests.integration.test_budget_properties import QUESTIONS, limits_strategy
from tests.support.fakes import anthropic_server
from tests.support.fakes.anthropic_server import FakeAnthropic
from tests.support.fakes.openai_engine import PRICES, openai_engine
from tests.support.fakes.openai_server import FakeOpenAI, Hang, Reply, from_messages_reply
from tests.support.fakes.research_replies import passages, plausible_reply, task_of
from tests.support.helpers import assert_within_limits

QUESTION = "Which team owns Ledgerline?"


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeOpenAI]:
    server = FakeOpenAI().start()
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def _fresh(fake: FakeOpenAI) -> None:
    fake.queue.clear()
    fake.history.clear()
    fake.responder = None


async def ask(components, fake: FakeOpenAI, question: str = QUESTION, *, engine_options=None, **options) -> RunResult:
    async with openai_engine(components, fake, rng=random.Random(3), **(engine_options or {})) as research:
        return await research.run(ResearchRequest(question=question, **options))


def ledger_rows(components, run_id: str) -> list[dict]:
    with components.db.transaction() as conn:
        return conn.execute("SELECT * FROM spend WHERE run_id = %s AND kind = 'llm' ORDER BY id", (run_id,)).fetchall()


def scripted(synthesis: str, *, usage: bool = True):
    def respond(body: dict) -> Reply:
        if task_of(body) == "plan":
            return Reply("team that owns Ledgerline", prompt_tokens=180, completion_tokens=7, usage=usage)
        n = passages(body)["Ledgerline settlement service"]
        return Reply(synthesis.format(n=n), prompt_tokens=1500, completion_tokens=60, cached_tokens=300, usage=usage)

    return respond


async def test_an_answer_settled_from_the_reported_usage(sample_components, fake):
    fake.responder = scripted("ANSWER:\nLedgerline is owned by the Payments Core team [{n}].\nGAPS:\n- none")
    answer = (await ask(sample_components, fake)).answer
    assert not answer.partial and answer.model == "gpt-test" and answer.citations
    rows = ledger_rows(sample_components, answer.run_id)
    assert [(r["node"], r["model"], r["outcome"], r["estimated"]) for r in rows] == [
        ("plan", "gpt-test-mini", "ok", False),
        ("synthesize", "gpt-test", "ok", False),
    ]
    assert [(r["input_tokens"], r["output_tokens"], r["cache_read_tokens"]) for r in rows] == [
        (180, 7, 0),
        (1200, 60, 300),
    ]
    expected = cost_usd(PRICES["gpt-test-mini"], Usage(180, 7)) + cost_usd(
        PRICES["gpt-test"], Usage(input_tokens=1200, output_tokens=60, cache_read_tokens=300)
    )
    assert sum(r["usd"] for r in rows) == pytest.approx(expected) == pytest.approx(answer.spend.usd)


async def test_a_local_model_without_usage_costs_nothing_but_its_tokens_are_estimated_and_capped(
    sample_components, fake
):
    fake.responder = scripted(
        "ANSWER:\nLedgerline is owned by the Payments Core team [{n}].\nGAPS:\n- none", usage=False
    )
    options = {"cheap": "qwen-local", "premium": "qwen-local"}
    answer = (await ask(sample_components, fake, engine_options=options)).answer
    rows = ledger_rows(sample_components, answer.run_id)
    assert [(r["model"], r["estimated"], r["usd"]) for r in rows] == [("qwen-local", True, 0.0)] * 2
    assert answer.spend.usd == 0 and answer.spend.tokens == sum(r["input_tokens"] + r["output_tokens"] for r in rows)

    fake.history.clear()
    tight = Limits(max_tokens=sum(r["input_tokens"] + r["output_tokens"] for r in rows[:1]) + 60)
    capped = (await ask(sample_components, fake, engine_options=options, budget=tight)).answer
    assert capped.partial and capped.stopped_by == "tokens" and capped.spend.tokens <= tight.max_tokens


async def test_mixed_tiers_local_cheap_model_and_claude_synthesis(sample_components, fake):
    claude = FakeAnthropic().start()
    try:
        fake.responder = scripted("unused")
        claude.responder = lambda body: anthropic_server.Reply(
            f"ANSWER:\nLedgerline is owned by the Payments Core team [{passages(body)['Ledgerline settlement service']}]."
            "\nGAPS:\n- none",
            input_tokens=1500,
            output_tokens=60,
        )
        options = {"cheap": "qwen-local", "premium": None, "claude": claude}
        answer = (await ask(sample_components, fake, engine_options=options)).answer
    finally:
        claude.stop()
    assert not answer.partial and answer.model == "claude-sonnet-5-5"
    rows = ledger_rows(sample_components, answer.run_id)
    assert [(r["node"], r["model"]) for r in rows] == [("plan", "qwen-local"), ("synthesize", "claude-sonnet-5-5")]
    assert rows[0]["usd"] == 0 and rows[1]["usd"] > 0
    assert answer.spend.by_node["plan"].usd == 0 and answer.spend.by_node["synthesize"].usd == rows[1]["usd"]
    assert len(fake.history) == 1 and len(claude.history) == 1


@pytest.mark.parametrize(
    "reply",
    [
        "Sure! Here is what I found.\n```\n**Answer:**\nLedgerline is owned by the Payments Core team [{n}].\n"
        "**Gaps:**\n- none\n```\nLet me know if you need more.",
        '{{"answer": "Ledgerline is owned by the Payments Core team [{n}].", "gaps": []}}',
        "<think>The passage says Payments Core.</think>\nLedgerline is owned by the Payments Core team [{n}].",
    ],
    ids=["fenced-bold-labels-and-prose", "json", "think-block-no-labels"],
)
async def test_near_misses_of_the_format_are_repaired(sample_components, fake, reply):
    fake.responder = scripted(reply)
    result = await ask(sample_components, fake)
    answer = result.answer
    assert not answer.partial and answer.gaps == () and answer.hops == 1
    assert answer.text == "Ledgerline is owned by the Payments Core team [1]."


@pytest.mark.parametrize(
    ("reply", "why"),
    [
        ("I think some team owns it, probably.", "ignored the reply format"),
        ("", "sent no usable answer"),
        ("```\n```", "sent no usable answer"),
    ],
)
async def test_a_model_that_ignores_the_format_ends_in_a_clean_partial_answer_naming_it(
    sample_components, fake, reply, why
):
    fake.responder = scripted(reply)
    answer = (await ask(sample_components, fake)).answer
    assert answer.partial and answer.stopped_by == "error" and answer.hops == 1
    assert answer.stop_detail.startswith(f"gpt-test {why}")
    assert answer.text.startswith(f"No answer was drafted: gpt-test {why}") and answer.citations
    assert "probably" not in answer.text and answer.gaps == ()


async def test_a_hanging_server_cannot_hold_the_answer_past_the_deadline(sample_components, fake):
    fake.responder = lambda body: Hang(30)
    limits = Limits(max_seconds=1.5)
    answer = (await ask(sample_components, fake, budget=limits)).answer
    assert fake.hanging == 1
    assert answer.partial and answer.stopped_by == "deadline"
    [row] = ledger_rows(sample_components, answer.run_id)
    assert row["outcome"] == "timeout" and row["estimated"] and row["usd"] > 0
    assert answer.spend.usd == pytest.approx(row["usd"]) and answer.spend.usd <= limits.max_usd


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    limits=limits_strategy,
    question=st.sampled_from(QUESTIONS),
    latency=st.floats(0.0, 0.4),
    seed=st.integers(0, 2**16),
    llm_rerank=st.booleans(),
    local=st.booleans(),
)
def test_ceilings_hold_and_every_run_answers(
    sample_components, fake, limits, question, latency, seed, llm_rerank, local
):
    """The Claude path's budget property, on this provider: with reported usage (priced models) or
    without it (a local $0 model, usage estimated)."""
    rng = random.Random(seed)
    fake.responder = lambda body: from_messages_reply(
        plausible_reply(body, rng, delay_s=rng.uniform(0, latency)), usage=not local or rng.random() < 0.3
    )
    options = {"cheap": "qwen-local", "premium": "qwen-local"} if local else {}

    async def run():
        async with openai_engine(sample_components, fake, llm_rerank=llm_rerank, **options) as research:
            return await research.run(ResearchRequest(question=question, budget=limits))

    answer = asyncio.run(run()).answer
    assert_within_limits(answer, limits)
    with sample_components.db.transaction() as conn:
        row = conn.execute(
            "SELECT coalesce(sum(usd), 0) AS usd, coalesce(sum(input_tokens + output_tokens), 0) AS tokens"
            " FROM spend WHERE run_id = %s AND kind = 'llm'",
            (answer.run_id,),
        ).fetchone()
    assert row["usd"] == pytest.approx(answer.spend.usd, abs=1e-12), "the ledger holds every cent the answer reports"
