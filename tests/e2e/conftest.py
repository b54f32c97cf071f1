import subprocess
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.cli_env import quarry_env

REPO = Path(__file__).resolve().parents[2]


@dataclass
class Cli:
    env: dict[str, str]
    cwd: Path

    def __call__(self, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "quarry.agent.cli.main", *args],
            cwd=self.cwd,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )


clean_env = quarry_env


@pytest.fixture
def cli(pg_url: str, tmp_path: Path) -> Cli:
    """`quarry` as a user runs it, against the session's PostgreSQL in a schema of its own."""
    schema = f"e2e_{uuid.uuid4().hex[:10]}"
    return Cli(
        clean_env(
            QUARRY_DATABASE_URL=pg_url, QUARRY_DATABASE__SCHEMA_NAME=schema, QUARRY_DATA_DIR=str(tmp_path / "data")
        ),
        tmp_path,
    )


@pytest.fixture(scope="module")
def sample_cli(pg_url: str, tmp_path_factory: pytest.TempPathFactory) -> Cli:
    """`quarry` over a schema holding the sample corpus, ingested once per test module."""
    schema = f"e2e_{uuid.uuid4().hex[:10]}"
    home = tmp_path_factory.mktemp("cli")
    cli = Cli(
        clean_env(QUARRY_DATABASE_URL=pg_url, QUARRY_DATABASE__SCHEMA_NAME=schema, QUARRY_DATA_DIR=str(home / "data")),
        home,
    )
    ingested = cli("ingest", str(REPO / "examples" / "corpus"), "--quiet")
    assert ingested.returncode == 0, ingested.stderr
    return cli
