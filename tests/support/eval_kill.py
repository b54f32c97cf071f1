"""Kill `quarry eval qa` with SIGKILL after a few answers (no chance to clean up), then run it again
with --resume: what is on disk and in the ledger before and after. Shared by
tests/e2e/test_eval_qa.py and bench/bench_faults.py."""

import json
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import psycopg

from quarry.eval.corpus_loader import corpus_schema
from tests.support.cli_env import REPO

FIXTURE = REPO / "tests" / "fixtures" / "qa" / "halyard-3.jsonl"
DOCUMENTS = REPO / "examples" / "corpus"


@dataclass(frozen=True)
class KillOutcome:
    questions: tuple[str, ...]
    killed: bool
    """False when the eval finished before the kill landed (nothing was proven)."""
    done_before: tuple[str, ...]
    """Ids with a complete row when the worker died."""
    runs_before: int
    resume_exit_code: int
    resume_stderr: str
    ids_after: tuple[str, ...]
    """Row ids in answers.jsonl after the resume, in file order."""
    runs_after: int

    @property
    def exactly_once(self) -> bool:
        return sorted(self.ids_after) == sorted(self.questions)

    @property
    def rerun(self) -> int:
        """Questions researched by the resume."""
        return self.runs_after - self.runs_before


def kill_and_resume(
    env: dict[str, str], workdir: Path, corpus: str, *, questions: int = 12, after: int = 3
) -> KillOutcome:
    """`env` (tests.support.cli_env.quarry_env) must point quarry at a database (QUARRY_DATABASE_URL) and use the
    offline model."""
    base = [json.loads(line) for line in FIXTURE.read_text().splitlines()]
    dataset = workdir / "questions.jsonl"
    ids = tuple(f"q{n:02d}" for n in range(questions))
    dataset.write_text("".join(json.dumps({**base[n % len(base)], "id": id_}) + "\n" for n, id_ in enumerate(ids)))
    out = workdir / "out"
    answers = out / "answers.jsonl"
    command = [
        sys.executable,
        "-m",
        "quarry.agent.cli.main",
        "eval",
        "qa",
        str(dataset),
        "--documents",
        str(DOCUMENTS),
        "--out",
        str(out),
        "--corpus",
        corpus,
        "--concurrency",
        "1",
        "--quiet",
    ]
    worker = subprocess.Popen(command, cwd=workdir, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while worker.poll() is None and (not answers.exists() or answers.read_text().count("\n") < after):
            time.sleep(0.02)
        worker.send_signal(signal.SIGKILL)
    finally:
        worker.wait(timeout=60)
    done_before = tuple(json.loads(line)["id"] for line in answers.read_text().splitlines() if line.endswith("}"))
    url = env["QUARRY_DATABASE_URL"]
    runs_before = _runs(url, corpus)
    resumed = subprocess.run(
        [*command[:-1], "--resume"], cwd=workdir, env=env, capture_output=True, text=True, timeout=600
    )
    ids_after = tuple(json.loads(line)["id"] for line in answers.read_text().splitlines())
    return KillOutcome(
        ids,
        worker.returncode == -signal.SIGKILL,
        done_before,
        runs_before,
        resumed.returncode,
        resumed.stderr,
        ids_after,
        _runs(url, corpus),
    )


def _runs(url: str, corpus: str) -> int:
    with psycopg.connect(url, options=f"-c search_path={corpus_schema(corpus)}") as conn:
        return conn.execute("SELECT count(*) FROM runs").fetchone()[0]
