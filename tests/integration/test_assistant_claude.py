"""The API on the Claude path: the real anthropic SDK against a fake Messages API on loopback.
Sync calls, async calls from another event loop and a chat session all share one client."""

import asyncio
import random
from collections.abc import Iterator

import pytest

from quarry.agent import Assistant
from tests.support.fakes.anthropic_server import FakeAnthropic
from tests.support.fakes.research_replies import STANDALONE, plausible_reply, task_of

pytestmark = pytest.mark.integration


@pytest.fixture
def fake() -> Iterator[FakeAnthropic]:
    rng = random.Random(5)
    server = FakeAnthropic(responder=lambda body: plausible_reply(body, rng)).start()
    yield server
    server.stop()


@pytest.fixture
def assistant(sample_components, fake: FakeAnthropic) -> Iterator[Assistant]:
    environ = {"ANTHROPIC_API_KEY": "test-key", "ANTHROPIC_BASE_URL": fake.base_url}
    with Assistant(sample_components.settings, environ=environ, embedder=sample_components.embedder) as opened:
        yield opened


def test_sync_and_async_calls_share_the_assistants_claude_client(assistant: Assistant, fake: FakeAnthropic):
    first = assistant.ask("Which team owns Ledgerline?")
    second = assistant.ask("What is Keel?")
    third = asyncio.run(assistant.aask("Who leads Payments Core?"))  # the caller's own, new event loop
    for answer in (first, second, third):
        assert answer.model == "claude-sonnet-5-5" and answer.spend.usd > 0 and answer.stopped_by != "error"
    assert len({a.run_id for a in (first, second, third)}) == 3
    assert {task_of(body) for body in fake.history} >= {"plan", "synthesize"}


def test_a_follow_up_is_rewritten_by_the_cheap_model_from_the_conversation(assistant: Assistant, fake: FakeAnthropic):
    session = assistant.chat(principal="dana")
    first = session.ask("Which team owns Ledgerline?")
    follow_up = session.ask("And who leads it?")
    rewrites = [body for body in fake.history if task_of(body) == "contextualize"]
    assert len(rewrites) == 1, "only the follow-up needed rewriting"
    request = rewrites[0]
    content = request["messages"][0]["content"]
    assert request["model"] == "claude-haiku-5-5"
    assert "Q: Which team owns Ledgerline?" in content and first.text.split(" [")[0] in content
    assert content.endswith("Last question: And who leads it?")
    assert follow_up.question == STANDALONE and follow_up.asked_as == "And who leads it?"
    calls = [c for c in assistant.run(follow_up.run_id, operator=True).calls if c.node == "contextualize"]
    assert len(calls) == 1 and calls[0].model == "claude-haiku-5-5" and calls[0].usd > 0
    assert follow_up.spend.by_node["contextualize"].usd == pytest.approx(calls[0].usd)
