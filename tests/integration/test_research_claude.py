"""The research loop on Claude's path: the real anthropic SDK against a fake Messages API on
loopback, the real graph, the real retrieval and ledger. Asserts budgets hold, retries stop when
the budget says so, and the ledger matches what the server reported."""

import random
import re
from collections.abc import Callable, Iterator

import pytest

from quarry.graph.budget.limits import Limits
from quarry.graph.config import ResearchConfig
from quarry.graph.engine import Engine, ResearchRequest, RunResult
from quarry.tools.llm.config import DEFAULT_PRICES
from quarry.tools.llm.pricing import Usage, cost_usd, worst_case_usd
from tests.support.fakes.anthropic_server import Fail, FakeAnthropic, Hang, Reply
from tests.support.fakes.claude_engine import claude_engine
from tests.support.fakes.research_replies import counted, passages, plausible_reply, task_of

QUESTION = "Which team owns Ledgerline?"


@pytest.fixture
def fake() -> Iterator[FakeAnthropic]:
    server = FakeAnthropic().start()
    yield server
    server.stop()


def engine(components, fake: FakeAnthropic, *, llm_rerank: bool = False, **config) -> Engine:
    return claude_engine(components, fake, llm_rerank=llm_rerank, rng=random.Random(3), **config)


async def ask(
    components, fake: FakeAnthropic, question: str = QUESTION, *, llm_rerank: bool = False, **options
) -> RunResult:
    async with engine(components, fake, llm_rerank=llm_rerank) as research:
        return await research.run(ResearchRequest(question=question, **options))


def ledger_rows(components, run_id: str) -> list[dict]:
    with components.db.transaction() as conn:
        return conn.execute("SELECT * FROM spend WHERE run_id = %s AND kind = 'llm' ORDER BY id", (run_id,)).fetchall()


def requests_for(fake: FakeAnthropic, task: str) -> list[dict]:
    return [body for body in fake.history if task_of(body) == task]


def scripted(synthesis: Callable[[dict], str]) -> Callable[[dict], Reply]:
    def respond(body: dict) -> Reply:
        if task_of(body) == "plan":
            return Reply("team that owns Ledgerline", input_tokens=180, output_tokens=7, cache_write_tokens=90)
        return Reply(synthesis(body), input_tokens=1500, output_tokens=60, cache_read_tokens=300)

    return respond


async def test_claude_answer_has_verified_citations_and_the_ledger_matches_the_server(sample_components, fake):
    def synthesis(body: dict) -> str:
        n = passages(body)["Ledgerline settlement service"]
        return (
            f"ANSWER:\nLedgerline is owned by the Payments Core team [{n}]. Ledgerline was rewritten in Haskell by contractors in Lisbon [{n}]. "
            f"Payments Core has on-call engineers [{n}][99].\nGAPS:\n- none"
        )

    fake.responder = scripted(synthesis)
    result = await ask(sample_components, fake)
    answer = result.answer
    assert not answer.partial and answer.hops == 1 and answer.model == "claude-sonnet-5-5"
    assert answer.text.startswith("Ledgerline is owned by the Payments Core team [1].")
    assert answer.citations[0].title == "Ledgerline settlement service"
    assert answer.citation_stats.unresolved == 1 and answer.citation_stats.unsupported == 1
    assert answer.unsupported_sentences == ("Ledgerline was rewritten in Haskell by contractors in Lisbon.",)

    rows = ledger_rows(sample_components, answer.run_id)
    assert [(r["node"], r["model"], r["outcome"]) for r in rows] == [
        ("plan", "claude-haiku-5-5", "ok"),
        ("synthesize", "claude-sonnet-5-5", "ok"),
    ]
    assert [(r["input_tokens"], r["output_tokens"], r["cache_write_tokens"], r["cache_read_tokens"]) for r in rows] == [
        (180, 7, 90, 0),
        (1500, 60, 0, 300),
    ]
    expected_usd = cost_usd(DEFAULT_PRICES["claude-haiku-5-5"], Usage(180, 7, 90, 0)) + cost_usd(
        DEFAULT_PRICES["claude-sonnet-5-5"], Usage(1500, 60, 0, 300)
    )
    assert sum(r["usd"] for r in rows) == pytest.approx(expected_usd) == pytest.approx(answer.spend.usd)
    plan_request, synth_request = fake.history
    assert plan_request["system"][0]["cache_control"] == {"type": "ephemeral"}
    assert synth_request["max_tokens"] == ResearchConfig().synthesize_max_tokens
    assert "<evidence>" in synth_request["messages"][0]["content"]


async def test_a_429_is_retried_inside_the_budget_and_counted(sample_components, fake):
    fake.enqueue(Fail(429, retry_after=0.01))
    fake.responder = scripted(
        lambda body: f"ANSWER:\nPayments Core owns Ledgerline [{min(passages(body).values())}].\nGAPS:\n- none"
    )
    answer = (await ask(sample_components, fake)).answer
    assert not answer.partial
    rows = ledger_rows(sample_components, answer.run_id)
    assert rows[0]["node"] == "plan" and rows[0]["attempts"] == 2 and rows[0]["input_tokens"] == 180


async def test_a_hanging_server_cannot_hold_the_answer_past_the_deadline(sample_components, fake):
    fake.responder = lambda body: Hang(30)
    limits = Limits(max_seconds=1.5)
    answer = (await ask(sample_components, fake, budget=limits)).answer
    # The hang lasts 30 s: an answer while the server still holds the request proves the call was cut.
    assert fake.hanging == 1
    assert answer.partial and answer.stopped_by == "deadline"
    [row] = ledger_rows(sample_components, answer.run_id)
    assert row["outcome"] == "timeout" and row["estimated"] and row["usd"] > 0
    assert answer.spend.usd == pytest.approx(row["usd"]), "a cut-off call is charged at its reservation"
    assert answer.spend.usd <= limits.max_usd


async def test_retries_stop_when_the_deadline_leaves_no_room_for_the_wait(sample_components, fake):
    fake.responder = lambda body: Fail(429, retry_after=30)
    answer = (await ask(sample_components, fake, budget=Limits(max_seconds=5))).answer
    assert answer.partial and answer.stopped_by == "error"
    assert "no time left for another" in answer.stop_detail
    assert len(fake.history) == 1
    assert [r["outcome"] for r in ledger_rows(sample_components, answer.run_id)] == ["unavailable"]


async def test_the_cost_ceiling_refuses_a_call_before_it_is_made(sample_components, fake):
    rng = random.Random(5)
    fake.responder = lambda body: plausible_reply(body, rng)
    limits = Limits(max_usd=0.001)
    answer = (await ask(sample_components, fake, budget=limits)).answer
    assert answer.partial and answer.stopped_by == "cost"
    assert requests_for(fake, "plan") and not requests_for(fake, "synthesize"), "synthesis never fit: never sent"
    assert 0 < answer.spend.usd <= limits.max_usd
    assert re.match(
        r"No answer was drafted before the cost limit stopped the run\. The most relevant passages", answer.text
    )


async def test_parallel_rerank_calls_draw_on_one_pool(sample_components, fake):
    rng = random.Random(11)
    fake.responder = lambda body: plausible_reply(body, rng, delay_s=0.05)
    generous = (await ask(sample_components, fake, llm_rerank=True, budget=Limits(max_usd=1.0, max_hops=1))).answer
    reranks = requests_for(fake, "rerank")
    assert len(reranks) == 2 and generous.spend.by_node["rerank"].calls == 2, (
        "the plan's two queries, reranked in parallel"
    )
    haiku = DEFAULT_PRICES["claude-haiku-5-5"]
    holds = [worst_case_usd(haiku, int(counted(body) * 1.35) + 8, body["max_tokens"]) for body in reranks]

    fake.history.clear()
    rng = random.Random(11)
    fake.responder = lambda body: plausible_reply(body, rng, delay_s=0.05)
    # After the plan, room for one rerank's reservation but not two: if each branch had its own cap,
    # both would run; on one shared pool the second must fall back to fused order instead.
    tight = Limits(max_usd=generous.spend.by_node["plan"].usd + 1.2 * max(holds), max_hops=1)
    answer = (await ask(sample_components, fake, llm_rerank=True, budget=tight)).answer
    assert len(requests_for(fake, "rerank")) == 1
    assert answer.spend.usd <= tight.max_usd
    assert answer.spend.by_node["rerank"].calls == 1
