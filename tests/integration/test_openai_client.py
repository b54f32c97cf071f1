"""The OpenAI-compatible client against a fake chat completions API on loopback: replies, usage
present or absent, retries, deadlines, bodies that are not completions; whole and streamed."""

import json
import random
import time
from collections.abc import AsyncIterator, Iterator

import pytest

from quarry.errors import LLMError, LLMTimeout, LLMUnavailable
from quarry.tools.llm.base import Message, PlanTask, Prompt
from quarry.tools.llm.openai_compat import OpenAICompatModel
from quarry.tools.llm.pricing import ModelPrice, Usage
from tests.support.fakes.openai_server import Events, Fail, FakeOpenAI, Hang, Raw, Reply, StreamHang

PRICE = ModelPrice(input=0.15, output=0.60, cache_read=0.075)
ASK = (Message("user", "Who owns Ledgerline?"),)


def prompt(system: str = "s") -> Prompt:
    return Prompt(PlanTask("Who owns Ledgerline?", max_queries=1), system, ASK)


@pytest.fixture
def fake() -> Iterator[FakeOpenAI]:
    server = FakeOpenAI().start()
    yield server
    server.stop()


def model_for(fake: FakeOpenAI, **options) -> OpenAICompatModel:
    return OpenAICompatModel(
        "gpt-test-mini",
        options.pop("price", PRICE),
        base_url=fake.base_url,
        backoff_base_s=0.01,
        backoff_cap_s=0.05,
        rng=random.Random(7),
        **options,
    )


@pytest.fixture
async def model(fake: FakeOpenAI) -> AsyncIterator[OpenAICompatModel]:
    client = model_for(fake, api_key="sk-test")
    yield client
    await client.aclose()


def soon(seconds: float) -> float:
    return time.monotonic() + seconds


async def test_reply_usage_and_request_shape(fake, model):
    fake.enqueue(Reply("Payments Core [1].", prompt_tokens=120, completion_tokens=9, cached_tokens=40))
    completion = await model.complete(prompt("You cite sources."), max_tokens=64, deadline=soon(10))
    assert completion.text == "Payments Core [1]." and completion.stop_reason == "stop"
    assert completion.usage == Usage(input_tokens=80, output_tokens=9, cache_read_tokens=40)
    assert not completion.usage_estimated and completion.attempts == 1 and completion.model == "gpt-test-mini"
    [request] = fake.history
    assert request == {
        "model": "gpt-test-mini",
        "max_tokens": 64,
        "stream": False,
        "messages": [
            {"role": "system", "content": "You cite sources."},
            {"role": "user", "content": "Who owns Ledgerline?"},
        ],
    }
    assert fake.headers[0]["authorization"] == "Bearer sk-test"


async def test_a_local_server_needs_no_key_and_its_missing_usage_is_estimated_from_above(fake):
    local = model_for(fake, price=ModelPrice(input=0.0, output=0.0, safety_factor=1.5))
    fake.enqueue(Reply("Payments Core owns Ledgerline.", usage=False))
    try:
        completion = await local.complete(prompt(), max_tokens=64, deadline=soon(10))
    finally:
        await local.aclose()
    assert "authorization" not in fake.headers[0]
    assert completion.usage_estimated and local.estimator.factor == 1.5, "a missing usage teaches the factor nothing"
    assert completion.usage.input_tokens == local.count_input_tokens(prompt())
    assert 6 <= completion.usage.output_tokens <= 64


async def test_429_with_retry_after_and_5xx_are_retried_then_succeed(fake, model):
    fake.enqueue(Fail(429, retry_after=0.01), Fail(503), Fail(429, retry_after_ms=10), Reply("done"))
    completion = await model.complete(prompt(), max_tokens=8, deadline=soon(10))
    assert completion.text == "done" and completion.attempts == 4 and len(fake.history) == 4


async def test_retries_stop_when_attempts_run_out(fake, model):
    fake.enqueue(*[Fail(502)] * 5)
    with pytest.raises(LLMUnavailable, match=r"gpt-test-mini: HTTP 502 after 4 attempt\(s\); retries exhausted"):
        await model.complete(prompt(), max_tokens=8, deadline=soon(10))
    assert len(fake.history) == 4


async def test_retry_after_beyond_the_deadline_is_not_waited_for(fake, model):
    fake.enqueue(Fail(429, retry_after=30), Reply("too late"))
    with pytest.raises(LLMUnavailable, match=r"HTTP 429 after 1 attempt\(s\); no time left for another"):
        await model.complete(prompt(), max_tokens=8, deadline=soon(2))
    assert len(fake.history) == 1


async def test_client_errors_are_not_retried_and_name_the_servers_reason(fake, model):
    fake.enqueue(Fail(404, message="model 'gpt-test-mini' not found, try pulling it first"), Reply("never"))
    with pytest.raises(LLMError, match=r"request refused: HTTP 404 model 'gpt-test-mini' not found") as caught:
        await model.complete(prompt(), max_tokens=8, deadline=soon(10))
    assert not isinstance(caught.value, LLMUnavailable) and len(fake.history) == 1


async def test_a_hang_is_cut_at_the_deadline_not_the_read_timeout(fake, model):
    fake.enqueue(Hang(30))
    with pytest.raises(LLMTimeout):
        await model.complete(prompt(), max_tokens=8, deadline=soon(1.0))
    assert fake.hanging == 1, "the call returned while the server still held it"


async def test_a_connection_refused_is_retried_inside_the_deadline():
    dead = FakeOpenAI().start()
    dead.stop()  # nothing listens on its port any more
    client = model_for(dead, max_attempts=3)
    try:
        with pytest.raises(LLMUnavailable, match=r"ConnectError after 3 attempt\(s\); retries exhausted"):
            await client.complete(prompt(), max_tokens=8, deadline=soon(10))
    finally:
        await client.aclose()


@pytest.mark.parametrize(
    "body",
    [b"<html>502 Bad Gateway</html>", b'{"choices": []}', b'{"choices": [{"message": {"content": 7}}]}', b"[1, 2]"],
    ids=["not-json", "no-choices", "content-not-text", "not-an-object"],
)
async def test_a_200_that_is_not_a_completion_is_charged_its_worst_case_with_no_text(fake, model, body):
    fake.enqueue(Raw(body))
    completion = await model.complete(prompt(), max_tokens=32, deadline=soon(10))
    assert completion.text == "" and completion.stop_reason == "malformed" and completion.usage_estimated
    assert completion.usage == Usage(input_tokens=model.count_input_tokens(prompt()), output_tokens=32)
    assert len(fake.history) == 1, "not retried: it may have been billed"


async def test_null_content_and_text_parts_are_read(fake, model):
    fake.enqueue(
        Raw(b'{"choices": [{"message": {"content": null}, "finish_reason": "length"}]}'),
        Raw(b'{"choices": [{"message": {"content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]}}]}'),
    )
    empty = await model.complete(prompt(), max_tokens=8, deadline=soon(10))
    parts = await model.complete(prompt(), max_tokens=8, deadline=soon(10))
    assert (empty.text, empty.stop_reason, empty.usage_estimated) == ("", "length", True)
    assert parts.text == "ab"


async def test_observed_usage_recalibrates_the_safety_factor(fake, model):
    counted = model.estimator.estimate("s\nuser: Who owns Ledgerline?")[0]
    fake.enqueue(Reply(prompt_tokens=counted * 2))
    await model.complete(prompt(), max_tokens=8, deadline=soon(10))
    assert model.estimator.factor == pytest.approx(2 * 1.05)


@pytest.fixture
async def streaming(fake: FakeOpenAI) -> AsyncIterator[OpenAICompatModel]:
    client = model_for(fake, api_key="sk-test", stream=True)
    yield client
    await client.aclose()


def chunk(content: str) -> str:
    return "data: " + json.dumps({"choices": [{"index": 0, "delta": {"content": content}, "finish_reason": None}]})


async def test_a_streamed_reply_is_joined_and_settled_from_its_final_usage_chunk(fake, streaming):
    text = "Payments Core owns Ledgerline [1], per the service catalogue."
    fake.enqueue(Reply(text, prompt_tokens=120, completion_tokens=14, cached_tokens=40, finish_reason="length"))
    completion = await streaming.complete(prompt("You cite sources."), max_tokens=64, deadline=soon(10))
    assert completion.text == text and completion.stop_reason == "length" and completion.model == "gpt-test-mini"
    assert completion.usage == Usage(input_tokens=80, output_tokens=14, cache_read_tokens=40)
    assert not completion.usage_estimated and completion.attempts == 1
    assert fake.events > 3, "the text came in several chunks"
    [request] = fake.history
    assert request["stream"] is True and request["stream_options"] == {"include_usage": True}
    assert request["messages"][0] == {"role": "system", "content": "You cite sources."}


async def test_a_stream_without_usage_is_estimated_exactly_as_a_whole_reply_is(fake, model, streaming):
    text = "Payments Core owns Ledgerline."
    fake.enqueue(Reply(text, usage=False), Reply(text, usage=False))
    whole = await model.complete(prompt(), max_tokens=64, deadline=soon(10))
    streamed = await streaming.complete(prompt(), max_tokens=64, deadline=soon(10))
    assert streamed.text == whole.text == text and streamed.usage_estimated and whole.usage_estimated
    assert streamed.usage == whole.usage and streamed.usage.input_tokens == streaming.count_input_tokens(prompt())
    assert streaming.estimator.factor == 1.35, "a missing usage teaches the factor nothing"


async def test_a_429_before_the_stream_is_retried_then_the_stream_succeeds(fake, streaming):
    fake.enqueue(Fail(429, retry_after=0.01), Fail(503), Reply("done"))
    completion = await streaming.complete(prompt(), max_tokens=8, deadline=soon(10))
    assert completion.text == "done" and completion.attempts == 3 and not completion.usage_estimated
    assert len(fake.history) == 3 and all(request["stream"] for request in fake.history)


async def test_a_refused_stream_names_the_servers_reason(fake, streaming):
    fake.enqueue(Fail(404, message="model 'gpt-test-mini' not found"), Reply("never"))
    with pytest.raises(LLMError, match=r"request refused: HTTP 404 model 'gpt-test-mini' not found") as caught:
        await streaming.complete(prompt(), max_tokens=8, deadline=soon(10))
    assert not isinstance(caught.value, LLMUnavailable) and len(fake.history) == 1


async def test_a_stream_that_hangs_midway_is_cut_at_the_deadline_as_a_timeout(fake, streaming):
    fake.enqueue(StreamHang("Payments Core owns", seconds=30), Reply("never asked for"))
    with pytest.raises(LLMTimeout, match=r"no complete reply within .* \(attempt 1\)"):
        await streaming.complete(prompt(), max_tokens=8, deadline=soon(1.0))
    assert fake.hanging == 1, "the call returned while the server still held the stream"
    assert fake.events >= 2, "some text was streamed before the hang"
    assert len(fake.history) == 1 and fake.delivered == 0, "not retried: it may have been billed"


@pytest.mark.parametrize(
    "lines",
    [
        (chunk("Payments "), "data: {not json", chunk("Core"), "data: [DONE]"),
        (chunk("Payments "), "data: [1, 2]", "data: [DONE]"),
        (chunk("Payments "), 'data: {"error": {"message": "overloaded"}}', "data: [DONE]"),
        (chunk("Payments "), chunk("Core")),
    ],
    ids=["not-json", "not-an-object", "error-event", "no-done"],
)
async def test_a_malformed_stream_is_charged_its_worst_case_with_no_text(fake, streaming, lines):
    fake.enqueue(Events(lines), Reply("never asked for"))
    completion = await streaming.complete(prompt(), max_tokens=32, deadline=soon(10))
    assert completion.text == "" and completion.stop_reason == "malformed" and completion.usage_estimated
    assert completion.usage == Usage(input_tokens=streaming.count_input_tokens(prompt()), output_tokens=32)
    assert len(fake.history) == 1, "not retried: it may have been billed"
