"""The database fails under a running question: a restart mid-run, a write cut off mid-statement
again and again, the server down for the rest of the run. On its own embedded cluster, so the
faults touch nothing else. A run either completes after reconnecting or fails with a clear
DatabaseUnavailable; stored rows stay consistent; the pool recovers for the next question.

Each fault fires at a fixed point inside the run (tests/support/fault_hooks.py, or a trigger on the
statement it cuts off), never from the event stream or a timer: the outcome does not depend on how
fast the run goes.
"""

from collections.abc import Iterator

import pytest

from quarry.agent import Assistant, Limits
from quarry.errors import DatabaseUnavailable
from quarry.graph.budget.ledger import PostgresLedger
from tests.conftest import REPO
from tests.support.consistency import corrupted_rows
from tests.support.fault_hooks import FaultOnSearch
from tests.support.helpers import isolated_settings
from tests.support.pg_control import EmbeddedCluster, once_the_pool_recovers

pytestmark = pytest.mark.integration

QUESTION = "Who leads the team that owns Ledgerline?"
CORPUS = [REPO / "examples" / "corpus" / part for part in ("wiki", "teams", "incidents")]


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> EmbeddedCluster:
    return EmbeddedCluster(tmp_path_factory.mktemp("faults") / "pg")


@pytest.fixture(scope="module")
def fault(embedder) -> FaultOnSearch:
    return FaultOnSearch(embedder)


@pytest.fixture(scope="module")
def assistant(
    cluster: EmbeddedCluster, fault: FaultOnSearch, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Assistant]:
    settings = isolated_settings(
        cluster.url,
        tmp_path_factory.mktemp("faults-data"),
        overrides={"cache.enabled": False, "database.connect_timeout_s": 3},
    )
    opened = Assistant(settings, environ={}, embedder=fault)
    assert opened.ingest(*CORPUS).refused == []
    yield opened
    opened.close()


def _documents(assistant: Assistant) -> tuple[int, int]:
    with assistant.components.db.transaction() as conn:
        row = conn.execute(
            "SELECT (SELECT count(*) FROM documents) AS d, (SELECT count(*) FROM chunks) AS c"
        ).fetchone()
    return row["d"], row["c"]


def _latest_run_status(assistant: Assistant) -> str:
    with assistant.components.db.transaction() as conn:
        return conn.execute("SELECT status FROM runs ORDER BY started_at DESC LIMIT 1").fetchone()["status"]


def test_a_restart_between_statements_is_survived_and_nothing_is_lost(
    assistant: Assistant, cluster: EmbeddedCluster, fault: FaultOnSearch
):
    """The server restarts as the first search begins, while the run holds pooled connections but no
    statement is in flight: the pool finds them dead on checkout and replaces them; the run completes."""
    before = _documents(assistant)
    fault.arm(cluster.restart)  # every pooled connection of the run dies here
    answer = assistant.ask(QUESTION, budget=Limits(max_seconds=60))
    assert fault.fired == 1
    assert not answer.partial and "Dana Okafor" in answer.text
    assert assistant.run(answer.run_id, operator=True).summary.status == "complete"
    assert corrupted_rows(assistant.components.db) == {}
    assert _documents(assistant) == before


def test_a_write_cut_off_mid_statement_fails_the_run_cleanly_every_time(assistant: Assistant, cluster: EmbeddedCluster):
    """The server ends the connection of the run's first ledger write while that write is in flight, in
    three runs in a row: each fails with a clear DatabaseUnavailable and is recorded as failed (never
    left running); nothing is corrupted; the pool serves the next question."""
    before = _documents(assistant)
    schema = assistant.components.db.schema
    for _ in range(3):
        with (
            cluster.dropping_inserts(schema, "spend", times=1) as dropped,
            pytest.raises(DatabaseUnavailable, match=r"lost the connection to PostgreSQL at .*administrator command"),
        ):
            assistant.ask(QUESTION, budget=Limits(max_seconds=60))
        assert int(dropped) == 1
        assert _latest_run_status(assistant) == "failed"
    assert corrupted_rows(assistant.components.db) == {}
    assert _documents(assistant) == before
    assert not assistant.ask(QUESTION).partial, "the pool recovered"


def test_a_server_down_for_the_rest_of_the_run_is_a_clear_error(
    assistant: Assistant, cluster: EmbeddedCluster, fault: FaultOnSearch
):
    """The server stops as the first search begins and stays down: the search's next statement cannot
    get a connection, and the run ends with a clear DatabaseUnavailable."""
    before = _documents(assistant)
    fault.arm(cluster.stop)
    try:
        with pytest.raises(DatabaseUnavailable, match="PostgreSQL at"):
            assistant.ask(QUESTION, budget=Limits(max_seconds=60))
    finally:
        cluster.start()
    assert fault.fired == 1
    assert not once_the_pool_recovers(lambda: assistant.ask(QUESTION)).partial, (
        "the pool recovered once the server was back"
    )
    ledger = PostgresLedger(assistant.components.db)
    with assistant.components.db.transaction() as conn:
        stranded = conn.execute("SELECT count(*) AS n FROM runs WHERE status = 'running'").fetchone()["n"]
        conn.execute("UPDATE runs SET started_at = now() - interval '1 hour' WHERE status = 'running'")
    assert stranded == 1, "the run could not record its failure with the server down"
    assert ledger.abandon_stale() == 1, "a run the outage stranded is marked abandoned, not left running"
    assert corrupted_rows(assistant.components.db) == {} and _documents(assistant) == before
