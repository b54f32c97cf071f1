"""Claude down (every request answered 529 Overloaded, through the real anthropic SDK and its
retries): without a fallback the run stops partial with stopped_by=error and says why; with
llm.fallback=offline it answers with the extractive model, says so, and stops asking Claude."""

from collections.abc import Iterator

import pytest

from quarry.agent import Assistant, Limits
from tests.support.fakes.anthropic_server import Fail, FakeAnthropic

pytestmark = pytest.mark.integration

QUESTION = "Which team owns Ledgerline?"


@pytest.fixture
def down() -> Iterator[FakeAnthropic]:
    server = FakeAnthropic(responder=lambda body: Fail(529, message="Overloaded")).start()
    yield server
    server.stop()


def _assistant(sample_components, server: FakeAnthropic, fallback: str) -> Assistant:
    settings = sample_components.settings.model_copy(
        update={
            "llm": sample_components.settings.llm.model_copy(
                update={
                    "provider": "claude",
                    "fallback": fallback,
                    "max_attempts": 2,
                    "backoff_base_s": 0.01,
                    "backoff_cap_s": 0.02,
                }
            ),
        }
    )
    return Assistant(
        settings,
        environ={"ANTHROPIC_API_KEY": "test-key", "ANTHROPIC_BASE_URL": server.base_url},
        embedder=sample_components.embedder,
    )


def test_without_a_fallback_the_run_stops_partial_and_names_the_cause(sample_components, down: FakeAnthropic):
    with _assistant(sample_components, down, "none") as assistant:
        answer = assistant.ask(QUESTION, budget=Limits(max_seconds=20))
        record = assistant.run(answer.run_id, operator=True)
    assert answer.partial and answer.stopped_by == "error"
    assert "claude-haiku-5-5" in answer.stop_detail and "529" in answer.stop_detail
    assert [(c.model, c.outcome) for c in record.calls if c.kind == "llm"] == [("claude-haiku-5-5", "unavailable")]
    assert record.summary.status == "partial" and answer.spend.usd == 0
    assert len(down.history) == 2, "max_attempts bounds the retries"


def test_with_the_offline_fallback_the_run_answers_and_says_so(sample_components, down: FakeAnthropic):
    with _assistant(sample_components, down, "offline") as assistant:
        answer = assistant.ask(QUESTION, budget=Limits(max_seconds=20))
        record = assistant.run(answer.run_id, operator=True)
    assert not answer.partial and answer.stopped_by is None
    assert answer.model == "extractive" and answer.citations and "Payments Core" in answer.text
    llm_calls = [(c.node, c.model, c.outcome) for c in record.calls if c.kind == "llm"]
    assert llm_calls[0] == ("plan", "claude-haiku-5-5", "unavailable")
    assert all(model == "extractive" and outcome == "ok" for _, model, outcome in llm_calls[1:])
    assert "synthesize" in {node for node, _, _ in llm_calls}
    assert len(down.history) == 2, "after the outage was found, the run did not ask Claude again"
    plan = next(span for span in record.trace if span.node == "plan")
    assert "claude-haiku-5-5 unavailable: answered by extractive (llm.fallback)" in plan.detail
