"""Shared fixtures: one real PostgreSQL (embedded pgserver) per session, a clean schema per test,
and the real packaged embedding model loaded once."""

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from hypothesis import settings as hypothesis_settings

from quarry.agent.settings import Settings
from quarry.corpus.db import Database, start_embedded
from quarry.corpus.embed import LocalEmbeddings
from quarry.corpus.store import DocumentStore
from tests.support.helpers import isolated_settings

if TYPE_CHECKING:
    from quarry.agent.components import Components

# Property tests check behaviour, not speed: no per-example deadline on a loaded CI machine.
hypothesis_settings.register_profile("quarry", deadline=None)
hypothesis_settings.load_profile("quarry")

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"


@pytest.fixture(scope="session")
def pg_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """QUARRY_TEST_DATABASE_URL when given, else a fresh embedded cluster for this test session."""
    external = os.environ.get("QUARRY_TEST_DATABASE_URL")
    if external:
        return external
    return start_embedded(tmp_path_factory.mktemp("pg") / "data")


@pytest.fixture
def settings(pg_url: str, tmp_path: Path) -> Settings:
    return isolated_settings(pg_url, tmp_path / "data", schema=f"t_{uuid.uuid4().hex[:12]}")


@pytest.fixture
def db(settings: Settings) -> Iterator[Database]:
    database = Database.open(settings.database, settings.embedding, settings.data_dir)
    yield database
    database.drop_schema()


@pytest.fixture
def store(db: Database) -> DocumentStore:
    return DocumentStore(db)


@pytest.fixture(scope="session")
def embedder() -> LocalEmbeddings:
    from quarry.corpus.config import EmbeddingConfig

    model = LocalEmbeddings(EmbeddingConfig())
    model.load()
    return model


@pytest.fixture(scope="module")
def sample_components(
    pg_url: str, embedder: LocalEmbeddings, tmp_path_factory: pytest.TempPathFactory
) -> Iterator["Components"]:
    """Components over the bundled sample corpus, ingested once per test module into its own schema,
    with the offline models (no API key in its environment) and the session's loaded embedding model."""
    from quarry.agent.components import Components

    # The cache is off: tests repeat questions to watch them researched; test_cache.py turns it on.
    settings = isolated_settings(
        pg_url,
        tmp_path_factory.mktemp("sample"),
        schema=f"s_{uuid.uuid4().hex[:12]}",
        overrides={"cache.enabled": False},
    )
    components = Components(settings, environ={}, embedder=embedder)
    report = components.ingestor.ingest_paths([REPO / "examples" / "corpus"])
    assert report.refused == [] and report.ingested == 32
    yield components
    components.db.drop_schema()
    components.close()
