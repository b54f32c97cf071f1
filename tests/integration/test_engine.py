"""The one engine behind every front door, asked directly with a `ResearchRequest`: a request naming
a chat session is a turn of it (history, clamped limits, the turn recorded), whoever asks."""

import asyncio
import dataclasses
import json
import subprocess
import sys
import uuid

import pytest

from quarry.agent.assistant import Assistant
from quarry.agent.components import Components
from quarry.corpus.filters import Principal
from quarry.errors import SessionBudgetSpent, SessionNotFound
from quarry.graph.budget.limits import Limits
from quarry.graph.engine import Engine, ResearchRequest
from quarry.graph.events import FinalAnswer, NodeStarted

pytestmark = pytest.mark.integration

ALICE = Principal(id="alice", groups=("public",))


def test_a_request_is_keyword_only_and_frozen():
    with pytest.raises(TypeError):
        ResearchRequest("Which team owns Ledgerline?")  # type: ignore[misc]
    request = ResearchRequest(question="Which team owns Ledgerline?")
    with pytest.raises(dataclasses.FrozenInstanceError):
        request.question = "something else"  # type: ignore[misc]
    assert request.budget is None and request.principal is None and request.use_cache


def test_a_session_turn_is_a_follow_up_within_the_session_budget_and_is_recorded(sample_components: Components):
    engine, sessions = sample_components.engine, sample_components.sessions
    record = sessions.create(ALICE, Limits(max_hops=3, max_tokens=100_000, max_seconds=300, max_usd=1.0))
    first = asyncio.run(engine.run(_turn("Which team owns Ledgerline?", record.id)))
    events = asyncio.run(_events(engine, _turn("And who leads it?", record.id)))
    follow_up = events[-1].answer
    assert "Payments Core" in first.answer.text
    assert follow_up.question == "Who leads Payments Core?" and follow_up.asked_as == "And who leads it?"
    left = 3 - first.answer.hops
    assert all(e.left.hops <= left for e in events if isinstance(e, NodeStarted)), "the turn had what was left"
    stored = sessions.load(record.id, ALICE)
    assert [t.asked for t in stored.turns] == ["Which team owns Ledgerline?", "And who leads it?"]
    assert [t.run_id for t in stored.turns] == [first.answer.run_id, follow_up.run_id]


def test_a_spent_session_answers_without_a_run(sample_components: Components):
    engine, sessions = sample_components.engine, sample_components.sessions
    record = sessions.create(ALICE, Limits(max_hops=1, max_tokens=100_000, max_seconds=300, max_usd=1.0))
    asyncio.run(engine.run(_turn("Which team owns Ledgerline?", record.id)))
    spent = asyncio.run(engine.run(_turn("What is Keel?", record.id)))
    assert spent.answer.run_id == "" and spent.answer.stopped_by == "hops" and spent.trace == ()
    assert len(sessions.load(record.id, ALICE).turns) == 1


def _turn(question: str, session_id: str) -> ResearchRequest:
    return ResearchRequest(question=question, session_id=session_id, principal=ALICE)


@pytest.mark.parametrize(
    "asker",
    [None, Principal(id="mallory"), Principal(id="alice", groups=("public", "finance")), Principal(id="alice")],
    ids=["no principal", "another principal", "the owner with more groups", "the owner with other groups"],
)
def test_only_the_owner_with_its_groups_asks_in_a_session_and_the_refusal_reveals_nothing(
    sample_components: Components, asker: Principal | None
):
    """Issue 20 M2: no principal used to resume as the owner, with the owner's groups; a wrong one was
    told the owner's id and groups. Now any other asker gets the error of a session that does not exist."""
    owner = Principal(id="alice", groups=("finance",))
    record = sample_components.sessions.create(owner, Limits())
    request = ResearchRequest(question="What is Keel?", session_id=record.id, principal=asker)
    with pytest.raises(SessionNotFound) as refused:
        asyncio.run(sample_components.engine.run(request))
    missing = str(uuid.uuid4())
    with pytest.raises(SessionNotFound) as absent:
        asyncio.run(sample_components.engine.run(dataclasses.replace(request, session_id=missing)))
    assert str(refused.value).replace(record.id, missing) == str(absent.value), "a stranger tells the two apart"
    assert "alice" not in str(refused.value) or (asker is not None and asker.id == "alice")
    assert sample_components.sessions.load(record.id, owner).turns == ()


def test_an_engine_without_a_session_store_refuses_a_session_request(sample_components: Components):
    c = sample_components
    engine = Engine(
        retriever=c.retriever,
        embedder=c.embedder,
        cheap=c.models.cheap,
        premium=c.models.premium,
        ledger=c.engine.services.ledger,
        config=c.settings.research,
        corpus_version=lambda: 0,
    )
    with pytest.raises(ValueError, match="no session store"):
        asyncio.run(engine.run(ResearchRequest(question="What is Keel?", session_id="x")))


def test_components_close_what_they_built_not_what_they_were_given(sample_components: Components):
    borrowed = Components(sample_components.settings, environ={}, db=sample_components.db)
    assert borrowed.db is sample_components.db and borrowed.store.counts()
    borrowed.close()
    assert sample_components.store.counts(), "the given database is still open"


async def _events(engine: Engine, request: ResearchRequest) -> list:
    events = [event async for event in engine.stream(request)]
    assert isinstance(events[-1], FinalAnswer)
    return events


@pytest.mark.slow
def test_two_processes_resuming_one_session_share_its_budget(pg_url: str, embedder, tmp_path):
    """Issue 20 M7: two processes resuming one session each read "nothing used" and together spent
    twice its hops. The first holds its turn's limits under the session row's lock before researching;
    the second, run whole while the first is paused at that point, finds nothing left."""
    from tests.support.cli_env import quarry_env
    from tests.support.helpers import isolated_settings
    from tests.support.session_child import PAUSED

    schema = f"sess_{uuid.uuid4().hex[:10]}"
    settings = isolated_settings(pg_url, tmp_path, schema=schema, overrides={"cache.enabled": False})
    note = tmp_path / "keel.md"
    note.write_text(
        "---\ntitle: Keel\nauthor: Ops\ndomain: engineering\npublished_at: 2024-05-01T00:00:00Z\naccess: [public]\n"
        "---\nKeel is the message broker the Payments Core team runs for settlement events.\n"
    )
    with Assistant(settings, environ={}, embedder=embedder) as assistant:
        assert assistant.ingest(note).ingested == 1
        budget = Limits(max_hops=1, max_seconds=600, max_tokens=100_000, max_usd=1.0)
        session_id = assistant.chat(principal=ALICE, session_budget=budget).id
        env = quarry_env(
            QUARRY_DATABASE_URL=pg_url,
            QUARRY_DATABASE__SCHEMA_NAME=schema,
            QUARRY_DATA_DIR=str(tmp_path),
            QUARRY_CACHE__ENABLED="false",
        )
        turn = [sys.executable, "-m", "tests.support.session_child", session_id, "alice", "public", "What is Keel?"]
        first = subprocess.Popen([*turn, "--pause"], env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        try:
            assert first.stdout is not None and first.stdin is not None
            assert first.stdout.readline().strip() == PAUSED
            second = subprocess.run(turn, env=env, capture_output=True, text=True, timeout=600, check=True)
            first.stdin.write("\n")
            first.stdin.flush()
            out, _ = first.communicate(timeout=600)
        finally:
            if first.poll() is None:
                first.kill()
        assert first.returncode == 0
        researched, refused = json.loads(out.splitlines()[-1]), json.loads(second.stdout.splitlines()[-1])
        assert researched["hops"] == 1 and researched["run_id"]
        assert refused == {"hops": 0, "stopped_by": "hops", "run_id": ""}, "the second process found the hop held"
        stored = assistant.components.sessions.load(session_id, ALICE)
        assert sum(t.usage.hops for t in stored.turns) <= budget.max_hops
        assert stored.held.hops == 0, "the recorded turn's hold was dropped"
        assistant.components.db.drop_schema()


def test_a_failed_turn_gives_its_hold_back(sample_components: Components):
    record = sample_components.sessions.create(ALICE, Limits(max_hops=2, max_seconds=300, max_tokens=100_000))
    ticket = sample_components.sessions.begin_turn(record.id, ALICE, Limits(max_hops=3))
    assert ticket.limits.max_hops == 2 and sample_components.sessions.load(record.id, ALICE).held.hops == 2
    with pytest.raises(SessionBudgetSpent, match="hops"):
        sample_components.sessions.begin_turn(record.id, ALICE, Limits())
    sample_components.sessions.release(ticket.hold)
    assert sample_components.sessions.begin_turn(record.id, ALICE, Limits()).limits.max_hops == 2
