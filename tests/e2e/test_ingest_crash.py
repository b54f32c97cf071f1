"""SIGKILL a real ingest process of documents with images at random points of its work, 20 times:
after each kill every document is whole or absent, and gc leaves no orphan blob. Each kill point is
drawn from a seeded generator and the process waits there to be killed (tests/support/kill_loop.py),
so the counts below are the same on any machine (bench/bench_assets.py
runs the 50-kill loop). Two loops run side by side (separate schemas and data dirs) to keep the wall
time down on two cores."""

import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.e2e.conftest import clean_env
from tests.support.kill_loop import kill_loop

pytestmark = [pytest.mark.integration, pytest.mark.slow]
ITERATIONS = 20
LOOPS = 2


def test_sigkills_at_seeded_points_never_leave_a_half_written_document_or_an_orphan_after_gc(
    pg_url: str, tmp_path: Path
):
    def one_loop(n: int):
        workdir = tmp_path / f"loop{n}"
        env = clean_env(
            QUARRY_DATABASE_URL=pg_url,
            QUARRY_DATABASE__SCHEMA_NAME=f"crash_{uuid.uuid4().hex[:8]}",
            QUARRY_DATA_DIR=str(workdir / "data"),
        )
        return kill_loop(ITERATIONS // LOOPS, workdir, env, seed=n)

    with ThreadPoolExecutor(LOOPS) as pool:
        results = list(pool.map(one_loop, range(LOOPS)))
    assert sum(r.iterations for r in results) == ITERATIONS
    assert sum(r.killed_while_writing for r in results) >= ITERATIONS // 3, "most kills land after writing began"
    assert all(orphans == 0 for r in results for orphans in r.orphans_after_gc)
    assert sum(r.documents_whole for r in results) > 0
