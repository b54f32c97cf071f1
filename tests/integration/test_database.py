import pytest

from quarry.agent.settings import load_settings
from quarry.corpus.config import EmbeddingConfig
from quarry.corpus.db import Database
from quarry.corpus.dsn import redact_dsn
from quarry.errors import DatabaseUnavailable, EmbeddingMismatch


def test_migrations_run_once_and_are_recorded(db: Database, settings):
    assert db.migrate(settings.embedding) == []
    with db.transaction() as conn:
        rows = conn.execute("SELECT version, name FROM schema_migrations ORDER BY version").fetchall()
        index = conn.execute("SELECT indexdef FROM pg_indexes WHERE indexname = 'chunks_embedding_hnsw'").fetchone()
    assert rows == [
        {"version": 1, "name": "0001_documents.sql"},
        {"version": 2, "name": "0002_graph.sql"},
        {"version": 3, "name": "0003_ledger.sql"},
        {"version": 4, "name": "0004_sessions.sql"},
        {"version": 5, "name": "0005_cache.sql"},
        {"version": 6, "name": "0006_assets.sql"},
        {"version": 7, "name": "0007_abandoned_runs.sql"},
        {"version": 8, "name": "0008_accounts.sql"},
        {"version": 9, "name": "0009_row_security.sql"},
        {"version": 10, "name": "0010_chunk_provenance.sql"},
        {"version": 11, "name": "0011_api_keys.sql"},
        {"version": 12, "name": "0012_document_origin.sql"},
        {"version": 13, "name": "0013_database_identity.sql"},
        {"version": 14, "name": "0014_session_holds.sql"},
    ]
    assert "hnsw" in index["indexdef"] and "m='16'" in index["indexdef"] and "ef_construction='64'" in index["indexdef"]


def test_server_reports_pgvector(db: Database):
    info = db.server_info()
    assert info.pgvector_version.count(".") == 2 and info.postgres_version.split(".")[0].isdigit()


def test_a_corpus_refuses_a_different_embedding_model(db: Database, settings):
    other = EmbeddingConfig(model="some/other-model", dimension=768)
    with pytest.raises(EmbeddingMismatch) as caught:
        Database.open(settings.database, other, settings.data_dir)
    message = str(caught.value)
    assert "was built with embedding model 'all-MiniLM-L6-v2' (384 dims)" in message
    assert "the configured model is 'some/other-model' (768 dims)" in message


def test_dead_database_is_a_clear_error_with_masked_password(tmp_path):
    url = "postgresql://quarry:hunter2@127.0.0.1:1/quarry"
    dead = load_settings(None, overrides={"database.url": url, "database.connect_timeout_s": 2}, environ={})
    with pytest.raises(DatabaseUnavailable) as caught:
        Database.open(dead.database, dead.embedding, tmp_path)
    message = str(caught.value)
    assert message.startswith("cannot connect to PostgreSQL at postgresql://quarry:***@127.0.0.1:1/quarry: ")
    assert "hunter2" not in message
    assert redact_dsn(url) == "postgresql://quarry:***@127.0.0.1:1/quarry"


def test_pool_recovers_after_its_connection_is_killed(db: Database):
    with db.transaction() as conn:
        pooled_pid = conn.execute("SELECT pg_backend_pid() AS pid").fetchone()["pid"]
    with db._direct() as admin:  # a connection outside the pool, as a DBA or a server restart would
        killed = admin.execute("SELECT pg_terminate_backend(%s)", (pooled_pid,)).fetchone()[0]
    assert killed is True
    # check_connection discards the dead connection on checkout, so the next transaction works.
    with db.transaction() as conn:
        row = conn.execute("SELECT pg_backend_pid() AS pid, 41 + 1 AS n").fetchone()
    assert row["n"] == 42 and row["pid"] != pooled_pid


def test_runs_left_running_by_a_dead_process_are_marked_abandoned(db: Database):
    from quarry.graph.budget.ledger import PostgresLedger, RunOpened

    ledger = PostgresLedger(db)
    for run_id, limits in (
        ("00000000-0000-0000-0000-000000000001", {"max_seconds": 60}),
        ("00000000-0000-0000-0000-000000000002", {"max_seconds": 86_400}),
    ):
        ledger.open_run(
            RunOpened(
                run_id=run_id,
                question="q",
                principal_id="p",
                principal_groups=("public",),
                filters={},
                limits=limits,
                corpus_version=1,
            )
        )
    with db.transaction() as conn:
        conn.execute("UPDATE runs SET started_at = now() - interval '2 hours'")
        conn.execute(
            "INSERT INTO runs (id, question, principal_id, principal_groups, filters, limits, corpus_version)"
            " VALUES ('00000000-0000-0000-0000-000000000003', 'live', 'p', '{public}', '{}', '{\"max_seconds\": 60}', 1)"
        )
    assert ledger.abandon_stale() == 1
    with db.transaction() as conn:
        status = {str(r["id"])[-1]: r["status"] for r in conn.execute("SELECT id, status FROM runs")}
    assert status == {"1": "abandoned", "2": "running", "3": "running"}, "only a run past its own deadline is abandoned"
    assert ledger.abandon_stale() == 0
