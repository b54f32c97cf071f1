"""The database fails under a running question: a restart mid-run, connections dropped again and
again mid-query, the server down for the rest of the run. On its own embedded cluster, so the
faults touch nothing else. A run either completes after reconnecting or fails with a clear
DatabaseUnavailable; stored rows stay consistent; the pool recovers for the next question."""

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from quarry.agent import Assistant, FinalAnswer, Limits, NodeFinished
from quarry.agent.settings import load_settings
from quarry.corpus.errors import DatabaseUnavailable
from quarry.graph.budget.ledger import PostgresLedger
from tests.conftest import REPO
from tests.support.consistency import corrupted_rows
from tests.support.pg_control import ConnectionKiller, EmbeddedCluster, once_the_pool_recovers

pytestmark = pytest.mark.integration

QUESTION = "Who leads the team that owns Ledgerline?"
CORPUS = [REPO / "examples" / "corpus" / part for part in ("wiki", "teams", "incidents")]


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> EmbeddedCluster:
    return EmbeddedCluster(tmp_path_factory.mktemp("faults") / "pg")


@pytest.fixture(scope="module")
def assistant(cluster: EmbeddedCluster, embedder, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Assistant]:
    settings = load_settings(
        Path(os.devnull),
        overrides={
            "database.url": cluster.url,
            "storage.data_dir": str(tmp_path_factory.mktemp("faults-data")),
            "cache.enabled": False,
            "database.connect_timeout_s": 3,
        },
        environ={},
    )
    opened = Assistant(settings, environ={})
    opened.runtime.__dict__["embedder"] = embedder
    assert opened.ingest(*CORPUS).refused == []
    yield opened
    opened.close()


def _documents(assistant: Assistant) -> tuple[int, int]:
    with assistant.runtime.db.transaction() as conn:
        row = conn.execute(
            "SELECT (SELECT count(*) FROM documents) AS d, (SELECT count(*) FROM chunks) AS c"
        ).fetchone()
    return row["d"], row["c"]


def test_a_restart_mid_run_completes_or_fails_cleanly_and_the_pool_recovers(
    assistant: Assistant, cluster: EmbeddedCluster
):
    """The restart lands wherever the run is by then: retrieval retries a dropped read once, so a
    restart during search is survived; one that drops a ledger write fails the run with a clear
    DatabaseUnavailable (the row is left 'running' for the reaper). Either way nothing is corrupted."""
    before = _documents(assistant)
    final, failure = None, None
    try:
        for event in assistant.stream(QUESTION, budget=Limits(max_seconds=30)):
            if isinstance(event, NodeFinished) and event.node == "plan":
                cluster.restart()  # the run's pooled connections all die here
            if isinstance(event, FinalAnswer):
                final = event.answer
    except DatabaseUnavailable as exc:
        failure = exc
    if failure is None:
        assert final is not None and not final.partial and "Dana Okafor" in final.text
        assert assistant.run(final.run_id).summary.status == "complete"
    else:
        assert "PostgreSQL at" in str(failure)
    assert once_the_pool_recovers(lambda: corrupted_rows(assistant.runtime.db)) == {}
    assert _documents(assistant) == before
    assert "Dana Okafor" in once_the_pool_recovers(lambda: assistant.ask(QUESTION)).text, "the pool recovered"


def test_connections_dropped_mid_query_fail_cleanly_or_complete(assistant: Assistant, cluster: EmbeddedCluster):
    outcomes: list[str] = []
    with ConnectionKiller(cluster, interval_s=0.05) as killer:
        for _ in range(6):
            try:
                answer = assistant.ask(QUESTION, budget=Limits(max_seconds=20))
                outcomes.append("partial" if answer.partial else "complete")
            except DatabaseUnavailable as exc:
                assert "PostgreSQL at" in str(exc)
                outcomes.append("failed cleanly")
    assert killer.kills > 0
    assert len(outcomes) == 6  # any other exception type would have failed the test above
    assert once_the_pool_recovers(lambda: corrupted_rows(assistant.runtime.db)) == {}
    assert not once_the_pool_recovers(lambda: assistant.ask(QUESTION)).partial, "the pool recovered"


def test_a_server_down_for_the_rest_of_the_run_is_a_clear_error(assistant: Assistant, cluster: EmbeddedCluster):
    before = _documents(assistant)
    raised = None
    try:
        for event in assistant.stream(QUESTION, budget=Limits(max_seconds=30)):
            if isinstance(event, NodeFinished) and event.node == "plan":
                cluster.stop()
    except DatabaseUnavailable as exc:
        raised = exc
    finally:
        cluster.start()
    assert raised is not None and "PostgreSQL at" in str(raised)
    assert not once_the_pool_recovers(lambda: assistant.ask(QUESTION)).partial, (
        "the pool recovered once the server was back"
    )
    ledger = PostgresLedger(assistant.runtime.db)
    with assistant.runtime.db.transaction() as conn:
        stranded = conn.execute("SELECT count(*) AS n FROM runs WHERE status = 'running'").fetchone()["n"]
        conn.execute("UPDATE runs SET started_at = now() - interval '1 hour' WHERE status = 'running'")
    assert ledger.abandon_stale() == stranded, "a run the outage stranded is marked abandoned, not left running"
    assert corrupted_rows(assistant.runtime.db) == {} and _documents(assistant) == before
