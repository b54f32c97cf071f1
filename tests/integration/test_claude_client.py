"""The real anthropic SDK against a fake Messages API on loopback: replies, retries, deadlines."""

import random
import time
from collections.abc import AsyncIterator, Iterator

import pytest

from quarry.errors import LLMError, LLMTimeout, LLMUnavailable
from quarry.tools.llm.base import Message, PlanTask, Prompt
from quarry.tools.llm.claude import ClaudeModel
from quarry.tools.llm.pricing import ModelPrice, Usage
from tests.support.fakes.anthropic_server import Fail, FakeAnthropic, Hang, Reply, StreamBreak, Trickle

PRICE = ModelPrice(input=3.0, output=15.0, cache_write=3.75, cache_read=0.3)
ASK = (Message("user", "Who owns Ledgerline?"),)


def prompt(system: str = "s") -> Prompt:
    return Prompt(PlanTask("Who owns Ledgerline?", max_queries=1), system, ASK)


@pytest.fixture
def fake() -> Iterator[FakeAnthropic]:
    server = FakeAnthropic().start()
    yield server
    server.stop()


@pytest.fixture
async def claude(fake: FakeAnthropic) -> AsyncIterator[ClaudeModel]:
    model = ClaudeModel(
        "claude-test",
        PRICE,
        api_key="test-key",
        base_url=fake.base_url,
        backoff_base_s=0.01,
        backoff_cap_s=0.05,
        rng=random.Random(7),
    )
    yield model
    await model.aclose()


def soon(seconds: float) -> float:
    return time.monotonic() + seconds


async def test_reply_usage_and_cached_system_prompt(fake, claude):
    fake.enqueue(
        Reply("Payments Core [1].", input_tokens=120, output_tokens=9, cache_write_tokens=40, cache_read_tokens=0)
    )
    completion = await claude.complete(prompt("You cite sources."), max_tokens=64, deadline=soon(10))
    assert completion.text == "Payments Core [1]."
    assert completion.usage == Usage(120, 9, 40, 0) and completion.attempts == 1
    [request] = fake.history
    assert request["max_tokens"] == 64 and request["model"] == "claude-test"
    assert request["system"] == [{"type": "text", "text": "You cite sources.", "cache_control": {"type": "ephemeral"}}]
    assert request["messages"] == [{"role": "user", "content": "Who owns Ledgerline?"}]


async def test_429_529_and_500_are_retried_then_succeed(fake, claude):
    fake.enqueue(Fail(429, retry_after=0.01), Fail(529), Fail(500), Reply("done"))
    completion = await claude.complete(prompt(), max_tokens=8, deadline=soon(10))
    assert completion.text == "done" and completion.attempts == 4 and len(fake.history) == 4


async def test_retries_stop_when_attempts_run_out(fake, claude):
    fake.enqueue(*[Fail(529)] * 5)
    with pytest.raises(
        LLMUnavailable, match=r"claude-test: HTTP 529 OverloadedError after 4 attempt\(s\); retries exhausted"
    ):
        await claude.complete(prompt(), max_tokens=8, deadline=soon(10))
    assert len(fake.history) == 4


async def test_retry_after_beyond_the_deadline_is_not_waited_for(fake, claude):
    fake.enqueue(Fail(429, retry_after=30), Reply("too late"))
    # "no time left for another" is the decision taken instead of sleeping through the Retry-After.
    with pytest.raises(LLMUnavailable, match="no time left for another"):
        await claude.complete(prompt(), max_tokens=8, deadline=soon(2))
    assert len(fake.history) == 1


async def test_client_errors_are_not_retried(fake, claude):
    fake.enqueue(Fail(400, message="max_tokens too large"), Reply("never"))
    with pytest.raises(LLMError, match=r"request refused: HTTP 400 BadRequestError") as caught:
        await claude.complete(prompt(), max_tokens=8, deadline=soon(10))
    assert not isinstance(caught.value, LLMUnavailable) and len(fake.history) == 1


@pytest.mark.parametrize("script", [Hang(30), Trickle(Reply("slow"), interval_s=0.3)], ids=["hang", "trickle"])
async def test_deadline_bounds_the_whole_call_not_each_read(fake, claude, script):
    fake.enqueue(script)
    deadline = soon(1.0)
    with pytest.raises(LLMTimeout):
        await claude.complete(prompt(), max_tokens=8, deadline=deadline)
    # The hang lasts 30 s and the trickle ~11 s: the call gave up while the server was still answering.
    if isinstance(script, Hang):
        assert fake.hanging == 1, "the call returned while the server still held it"
    else:
        assert fake.delivered == 0, "the call returned before the slow reply was complete"


async def test_observed_usage_recalibrates_the_safety_factor(fake, claude):
    before = claude.estimator.factor
    counted = claude.estimator.estimate("s\nuser: Who owns Ledgerline?")[0]
    fake.enqueue(Reply(input_tokens=counted * 2))
    await claude.complete(prompt(), max_tokens=8, deadline=soon(10))
    assert claude.estimator.factor == pytest.approx(2 * 1.05) and claude.estimator.factor > before


async def test_streaming_hands_over_text_as_it_arrives_and_retries_only_before_any_was_shown(fake, claude):
    text = "ANSWER: Payments Core owns Ledgerline [1]."
    fake.enqueue(StreamBreak(Reply(text), deltas=0), Reply(text, input_tokens=50, output_tokens=12))
    pieces: list[str] = []
    completion = await claude.complete_streaming(prompt(), max_tokens=64, deadline=soon(10), on_text=pieces.append)
    assert "".join(pieces) == completion.text == text and len(pieces) > 1
    assert completion.usage == Usage(50, 12, 0, 0) and completion.attempts == 2
    assert all(body["stream"] is True for body in fake.history)

    fake.enqueue(StreamBreak(Reply(text), deltas=2), Reply(text))
    shown: list[str] = []
    with pytest.raises(LLMUnavailable, match=r"not retried: 12 characters of the reply were already streamed"):
        await claude.complete_streaming(prompt(), max_tokens=64, deadline=soon(10), on_text=shown.append)
    assert "".join(shown) == text[:12] and len(fake.history) == 3  # the second reply was never asked for
