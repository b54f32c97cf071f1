"""A read-only database (a streaming replica, or `default_transaction_read_only = on`) serves reads:
search, runs, spend and doctor work on it; whatever needs to write (ask records every run, ingest)
says so, naming the database and what to do, and nothing is misdiagnosed as a missing pgvector."""

import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from quarry.agent.components import Components
from quarry.agent.settings import Settings
from quarry.corpus.db import Database
from quarry.corpus.embed import LocalEmbeddings
from quarry.corpus.filters import Principal
from quarry.errors import ReadOnlyDatabase
from tests.support.helpers import isolated_settings, make_document

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def replica(pg_url: str, embedder: LocalEmbeddings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    """A database of its own, filled while writable, then made read-only for every new connection."""
    name = f"ro_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(pg_url, autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name}")
    url = psycopg.conninfo.make_conninfo(pg_url, dbname=name)
    settings = isolated_settings(url, tmp_path_factory.mktemp("replica"))
    with Components(settings, environ={}, embedder=embedder) as writer:
        document = make_document("kittiwake", "The Kittiwake was inspected by Ines Duarte in March 2024.")
        assert writer.ingestor.ingest_documents([document]).ingested == 1
    with psycopg.connect(pg_url, autocommit=True) as admin:
        admin.execute(f"ALTER DATABASE {name} SET default_transaction_read_only = on")
    yield settings
    with psycopg.connect(pg_url, autocommit=True) as admin:
        admin.execute(f"DROP DATABASE {name} WITH (FORCE)")


def test_search_runs_on_a_read_only_database(replica: Settings, embedder: LocalEmbeddings):
    with Components(replica, environ={}, embedder=embedder) as components:
        assert components.db.read_only
        found = components.retriever.retrieve("Who inspected the Kittiwake?", principal=Principal(), k=3)
        assert [hit.hit.document_id for hit in found.hits] == ["kittiwake"]


def test_what_needs_to_write_says_so(replica: Settings, embedder: LocalEmbeddings, tmp_path: Path):
    with Components(replica, environ={}, embedder=embedder) as components, pytest.raises(ReadOnlyDatabase) as caught:
        components.engine  # noqa: B018 (building it would clean up the ledger)
    message = str(caught.value)
    assert "is read-only" in message and "pgvector" not in message
    assert "search, runs, spend and doctor" in message and "writable" in message


def test_a_read_only_database_behind_the_current_migrations_is_refused_clearly(
    pg_url: str, replica: Settings, tmp_path: Path
):
    name = replica.database.url.rsplit("dbname=", 1)[-1].split()[0] if replica.database.url else ""
    url = psycopg.conninfo.make_conninfo(pg_url, dbname=name)
    empty = isolated_settings(url, tmp_path, schema=f"none_{uuid.uuid4().hex[:8]}")
    with pytest.raises(ReadOnlyDatabase, match=r"schema 'none_[0-9a-f]+' .* not set up"):
        Database.open(empty.database, empty.embedding, empty.data_dir)
