"""`python -m bench.bench_load` as a user runs it, in its smallest form: both model modes, a few
concurrent chat sessions with a follow-up each, a short soak; the JSON it writes is checked, never
its timings."""

import json
import subprocess
import sys
import uuid

import pytest

from tests.e2e.conftest import REPO, clean_env

pytestmark = [pytest.mark.integration, pytest.mark.slow]

SESSIONS, TURNS = (2, 3), 2


@pytest.fixture(scope="module")
def bench(pg_url: str, tmp_path_factory: pytest.TempPathFactory) -> tuple[subprocess.CompletedProcess[str], dict]:
    home = tmp_path_factory.mktemp("bench-load")
    out = home / "bench_load.json"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.bench_load",
            "--quick",
            "--sessions",
            ",".join(map(str, SESSIONS)),
            "--turns",
            str(TURNS),
            "--latency-ms",
            "0,20",
            "--soak",
            "2",
            "--soak-sessions",
            "2",
            "--sample-every",
            "0.5",
            "--database-url",
            pg_url,
            "--schema",
            f"bench_{uuid.uuid4().hex[:10]}",
            "--data-dir",
            str(home / "data"),
            "--out",
            str(out),
        ],
        cwd=REPO,
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    return done, json.loads(out.read_text()) if out.exists() else {}


def test_every_mode_and_session_count_has_a_clean_row(bench):
    done, result = bench
    assert done.returncode == 0, done.stdout + done.stderr
    rows = {(row["mode"], row["sessions"]): row for row in result["load"]}
    assert set(rows) == {(mode, n) for mode in ("offline", "claude") for n in SESSIONS}
    for (mode, n), row in rows.items():
        assert row["questions"] == n * TURNS, (mode, n)
        assert (row["errors"], row["violations"], row["ledger_mismatches"]) == (0, 0, 0), row["problems"]
        assert sum(row["stopped_by"].values()) == row["questions"]
        assert row["peak_rss_mb"] > 0
    assert rows[("claude", 2)]["usd"] > 0 and rows[("offline", 2)]["usd"] == 0


def test_the_soak_reports_memory_samples_and_a_verdict(bench):
    _, result = bench
    assert [row["mode"] for row in result["soak"]] == ["offline", "claude"]
    for row in result["soak"]:
        assert row["questions"] > 0 and (row["errors"], row["violations"], row["ledger_mismatches"]) == (0, 0, 0)
        assert len(row["samples"]) >= 2 and row["rss_max_mb"] >= row["rss_start_mb"] > 0
        assert isinstance(row["flat"], bool) and "slope_mb_per_min" in row


def test_the_table_goes_to_stdout_and_progress_to_stderr(bench):
    done, _ = bench
    assert "| mode | sessions | questions | wall s | q/s |" in done.stdout
    assert "### Soak: offline, 2 sessions" in done.stdout
    assert "claude: 3 sessions × 2 turns…" in done.stderr and "| mode |" not in done.stderr


def test_unknown_mode_is_a_usage_error():
    done = subprocess.run(
        [sys.executable, "-m", "bench.bench_load", "--modes", "gpt"],
        cwd=REPO,
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2 and "unknown mode gpt; choose from offline, claude" in done.stderr
