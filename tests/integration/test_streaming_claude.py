"""Token streaming on Claude's path: the real anthropic SDK streams from a fake Messages API on loopback,
through the real graph. The draft arrives as TextDelta events; the final answer is still the verified one."""

import random
from collections.abc import Iterator

import pytest

from quarry.graph.engine import ResearchRequest
from quarry.graph.events import DraftReady, FinalAnswer, RunEvent, TextDelta
from tests.support.fakes.anthropic_server import FakeAnthropic, Reply
from tests.support.fakes.claude_engine import claude_engine
from tests.support.fakes.research_replies import passages, task_of

pytestmark = pytest.mark.integration

QUESTION = "Which team owns Ledgerline?"
UNSUPPORTED = "Ledgerline was rewritten in Haskell by contractors in Lisbon"


@pytest.fixture
def fake() -> Iterator[FakeAnthropic]:
    def respond(body: dict) -> Reply:
        if task_of(body) == "plan":
            return Reply("team that owns Ledgerline", input_tokens=180, output_tokens=7)
        n = passages(body)["Ledgerline settlement service"]
        answer = f"Ledgerline is owned by the Payments Core team [{n}]. {UNSUPPORTED} [{n}]."
        return Reply(f"ANSWER:\n{answer}\nGAPS:\n- none", input_tokens=1500, output_tokens=60, stream_chunk=5)

    server = FakeAnthropic(responder=respond).start()
    yield server
    server.stop()


async def events_of(components, fake: FakeAnthropic, *, stream_text: bool) -> list[RunEvent]:
    async with claude_engine(components, fake, rng=random.Random(3)) as engine:
        return [e async for e in engine.stream(ResearchRequest(question=QUESTION, stream_text=stream_text))]


async def test_the_draft_streams_as_written_and_the_final_answer_is_the_verified_one(sample_components, fake):
    events = await events_of(sample_components, fake, stream_text=True)
    deltas = [e for e in events if isinstance(e, TextDelta)]
    synthesis = next(b for b in fake.history if task_of(b) == "synthesize")
    n = passages(synthesis)["Ledgerline settlement service"]
    assert "".join(d.text for d in deltas) == (
        f"Ledgerline is owned by the Payments Core team [{n}]. {UNSUPPORTED} [{n}].\n"
    )  # the ANSWER section only: no label, no GAPS
    assert len(deltas) > 10 and {d.hop for d in deltas} == {1}
    assert synthesis["stream"] is True and "stream" not in next(b for b in fake.history if task_of(b) == "plan")

    kinds = [type(e) for e in events]
    assert kinds.index(DraftReady) > max(i for i, k in enumerate(kinds) if k is TextDelta)
    assert next(e for e in events if isinstance(e, DraftReady)).dropped == 1  # the stream says what was removed
    final = events[-1]
    assert isinstance(final, FinalAnswer)
    answer = final.answer
    assert answer.unsupported_sentences == (f"{UNSUPPORTED}.",)  # streamed, then caught by verification
    assert answer.citation_stats.unsupported == 1 and answer.citations[0].title == "Ledgerline settlement service"
    total = answer.spend.by_node["synthesize"]
    assert (total.input_tokens, total.output_tokens) == (1500, 60)  # usage from the stream's own events


async def test_without_stream_text_nothing_streams(sample_components, fake):
    events = await events_of(sample_components, fake, stream_text=False)
    assert not any(isinstance(e, TextDelta) for e in events)
    assert all("stream" not in body for body in fake.history)
    assert isinstance(events[-1], FinalAnswer) and events[-1].answer.citation_stats.unsupported == 1
