"""The Python API end to end on the sample corpus: the real graph, real PostgreSQL, the offline model."""

import asyncio
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from quarry.agent import (
    Assistant,
    DraftReady,
    FinalAnswer,
    HitsFound,
    InvalidQuestion,
    Limits,
    NodeFinished,
    NodeStarted,
    Principal,
    SessionNotFound,
)
from quarry.agent.passages import PassageUnavailable
from quarry.corpus.embed import LocalEmbeddings
from tests.conftest import REPO
from tests.support.helpers import isolated_settings

pytestmark = pytest.mark.integration

FIRST = "Which team owns Ledgerline?"
FOLLOW_UP = "And who leads it?"


def _settings(pg_url: str, schema: str, data_dir: Path):
    """The semantic cache is off: these tests repeat questions and check how they were researched
    (tests/integration/test_cache.py covers the cache)."""
    return isolated_settings(pg_url, data_dir, schema=schema, overrides={"cache.enabled": False})


@pytest.fixture(scope="module")
def corpus(
    pg_url: str, embedder: LocalEmbeddings, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, Path]]:
    """A schema with the sample corpus, ingested once through the API; each test opens its own Assistant on it."""
    schema, data_dir = f"api_{uuid.uuid4().hex[:10]}", tmp_path_factory.mktemp("api")
    with _open(pg_url, schema, data_dir, embedder) as assistant:
        report = assistant.ingest(REPO / "examples" / "corpus")
        assert report.refused == [] and report.ingested == 32
    yield schema, data_dir
    with _open(pg_url, schema, data_dir, embedder) as assistant:
        assistant.components.db.drop_schema()


def _open(pg_url: str, schema: str, data_dir: Path, embedder: LocalEmbeddings) -> Assistant:
    return Assistant(_settings(pg_url, schema, data_dir), environ={}, embedder=embedder)  # the session's loaded model


@pytest.fixture
def assistant(pg_url: str, corpus: tuple[str, Path], embedder: LocalEmbeddings) -> Iterator[Assistant]:
    with _open(pg_url, *corpus, embedder) as opened:
        yield opened


def test_ask_answers_with_citations_spend_and_a_recorded_run(assistant: Assistant):
    answer = assistant.ask(FIRST, budget=Limits(max_seconds=30, max_usd=0.05))
    assert "Payments Core" in answer.text and not answer.partial and answer.stopped_by is None
    assert any(c.source.endswith("teams/payments-core.md") for c in answer.citations)
    assert {"plan", "synthesize"} <= set(answer.spend.by_node) and answer.elapsed_s > 0
    record = assistant.run(answer.run_id)
    assert record.summary.status == "complete" and record.summary.question == FIRST
    nodes = [span.node for span in record.trace]
    assert nodes[:3] == ["cache_lookup", "plan", "search"] and nodes[-2:] == ["finalize", "cache_store"]
    assert {call.node for call in record.calls} >= {"plan", "synthesize"}
    assert answer.run_id in {run.id for run in assistant.runs(limit=50)}


def test_a_follow_up_is_resolved_against_the_session_and_only_makes_sense_with_it(assistant: Assistant):
    session = assistant.chat(principal="alice")
    first = session.ask(FIRST)
    follow_up = session.ask(FOLLOW_UP)
    assert "Payments Core" in first.text
    assert follow_up.asked_as == FOLLOW_UP and follow_up.question == "Who leads Payments Core?"
    assert "Dana Okafor" in follow_up.text
    assert "contextualize" in follow_up.spend.by_node and "contextualize" not in first.spend.by_node
    assert [turn.asked for turn in session.turns] == [FIRST, FOLLOW_UP]
    alone = assistant.ask(FOLLOW_UP)
    assert alone.question == FOLLOW_UP and "contextualize" not in alone.spend.by_node


def test_a_session_resumes_after_the_assistant_is_recreated(pg_url: str, corpus, embedder: LocalEmbeddings):
    with _open(pg_url, *corpus, embedder) as first_process:
        session = first_process.chat(principal=Principal(id="bob", groups=("public",)))
        session.ask(FIRST)
        session_id, used = session.id, session.used
    with _open(pg_url, *corpus, embedder) as second_process:
        with pytest.raises(SessionNotFound):
            second_process.chat(session_id=session_id)  # issue 20 M2: no principal is not the owner
        bob = Principal(id="bob", groups=("public",))
        resumed = second_process.chat(session_id=session_id, principal=bob)
        assert resumed.principal.id == "bob" and [t.asked for t in resumed.turns] == [FIRST]
        assert resumed.used == used and used.tokens > 0
        follow_up = resumed.ask(FOLLOW_UP)
        assert follow_up.question == "Who leads Payments Core?" and "Dana Okafor" in follow_up.text
        assert len(second_process.chat(session_id=session_id, principal=bob).turns) == 2
        with pytest.raises(SessionNotFound, match=r"no session .* for principal 'mallory'") as refused:
            second_process.chat(session_id=session_id, principal="mallory")
        assert "bob" not in str(refused.value)
        with pytest.raises(SessionNotFound):
            second_process.chat(session_id=str(uuid.uuid4()))
        with pytest.raises(SessionNotFound, match="not a session id"):
            second_process.chat(session_id="../etc/passwd")


def test_the_session_budget_caps_the_conversation_as_a_whole(assistant: Assistant):
    session = assistant.chat(session_budget=Limits(max_hops=2, max_seconds=300, max_tokens=100_000, max_usd=1.0))
    first = session.ask(FIRST)
    assert first.hops >= 1 and session.next_limits().max_hops == 2 - first.hops
    if first.hops < 2:
        session.ask("Who leads Payments Core?")
    runs_before = len(assistant.runs(limit=1000))
    spent = session.ask("What is Keel?")
    assert spent.partial and spent.stopped_by == "hops" and spent.run_id == "" and "session" in spent.stop_detail
    assert len(assistant.runs(limit=1000)) == runs_before, "a spent session runs nothing"
    assert session.used.hops == 2 and len(session.turns) == (1 if first.hops == 2 else 2)


def test_a_turn_never_gets_more_than_the_session_has_left(assistant: Assistant):
    session = assistant.chat(budget=Limits(max_tokens=50_000), session_budget=Limits(max_tokens=1_500, max_hops=10))
    first = session.ask(FIRST)
    second = session.ask("Who leads Payments Core?")
    total = first.spend.tokens + second.spend.tokens
    assert total <= 1_500, "the turns together stayed inside the session's token ceiling"
    assert second.partial and second.stopped_by == "tokens"


async def test_the_event_stream_is_ordered_and_ends_with_the_answer(assistant: Assistant):
    events = [event async for event in assistant.astream("Who leads the team that owns Ledgerline?")]
    assert isinstance(events[0], NodeStarted) and events[0].node == "cache_lookup"
    assert isinstance(events[-1], FinalAnswer) and sum(isinstance(e, FinalAnswer) for e in events) == 1
    started: list[str] = []
    for event in events:
        if isinstance(event, NodeStarted):
            started.append(event.node)
        elif isinstance(event, NodeFinished):
            assert event.node in started, f"{event.node} finished before it started"
            started.remove(event.node)
    assert started == [], "every node that started also finished"
    kinds = [type(e) for e in events]
    first_hits = kinds.index(HitsFound)
    assert kinds.index(NodeStarted) < first_hits < kinds.index(DraftReady) < len(kinds) - 1
    finished = [e.span for e in events if isinstance(e, NodeFinished)]
    assert list(events[-1].trace) == finished and [s.node for s in finished[-2:]] == ["finalize", "cache_store"]
    assert all(
        e.left.tokens <= 50_000 and e.left.seconds <= 60 for e in events if isinstance(e, NodeStarted | NodeFinished)
    )


async def test_async_twins_run_concurrently_and_a_closed_stream_cancels_its_run(assistant: Assistant):
    answers = await asyncio.gather(assistant.aask(FIRST), assistant.aask("Who leads Payments Core?"))
    assert "Payments Core" in answers[0].text and "Dana Okafor" in answers[1].text
    assert answers[0].run_id != answers[1].run_id
    stream = assistant.astream("What triggered the March 2024 settlement outage?")
    async for event in stream:
        if isinstance(event, NodeStarted) and event.node == "search":
            break
    await stream.aclose()
    latest = assistant.runs(limit=1)[0]
    assert latest.question == "What triggered the March 2024 settlement outage?" and latest.status == "cancelled"


def test_sync_stream_matches_the_answer(assistant: Assistant):
    events = list(assistant.stream(FIRST))
    final = events[-1]
    assert isinstance(final, FinalAnswer) and "Payments Core" in final.answer.text


def test_bad_questions_are_refused_before_anything_runs(assistant: Assistant):
    from quarry.agent import InvalidFilters

    before = len(assistant.runs(limit=1000))
    with pytest.raises(InvalidFilters, match=r"domian: .*allowed: domains"):
        assistant.ask(FIRST, filters={"domian": ["payments"]})
    with pytest.raises(InvalidQuestion, match="empty"):
        assistant.ask("   ")
    with pytest.raises(InvalidQuestion, match="characters long"):
        assistant.ask("why " * 2000)
    assert len(assistant.runs(limit=1000)) == before


def test_a_citation_opens_in_context_only_for_a_reader_allowed_to_see_it(assistant: Assistant):
    answer = assistant.ask(FIRST)
    citation = answer.citations[0]
    passage = assistant.open_citation(citation, principal=Principal(groups=("public",)), context_chars=50)
    assert passage.cited == citation.quote and not passage.changed and len(passage.after) <= 50
    assert citation.quote in citation.text, "the supporting sentence, highlighted inside its chunk"
    with pytest.raises(PassageUnavailable):
        assistant.open_citation(citation, principal=Principal(id="outsider", groups=("contractors",)))


def test_spend_is_attributed_by_node_model_and_principal(assistant: Assistant):
    assistant.ask(FIRST, principal="carol")
    by_node = {row.key: row for row in assistant.spend("node", operator=True)}
    assert {"plan", "search", "synthesize"} <= set(by_node) and by_node["synthesize"].input_tokens > 0
    assert {row.key for row in assistant.spend("model", operator=True)} >= {"extractive", "all-MiniLM-L6-v2"}
    assert "carol" in {row.key for row in assistant.spend("principal", operator=True)}
