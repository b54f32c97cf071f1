"""The crash loop: a real `quarry ingest` subprocess of documents with images, SIGKILLed at a random
point, again and again; after every kill the store must hold each document whole (one submitted
version, every image readable and matching its hash) or not at all, and gc must leave no orphan blob.

Used by tests/e2e/test_ingest_crash.py and eval/bench_assets.py.
"""

import os
import random
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from quarry.agent.settings import load_settings
from quarry.corpus.blobs import LocalBlobStore
from quarry.corpus.db import Database
from quarry.corpus.gc import collect_garbage
from tests.support.image_corpus import Version, assert_no_orphans, assert_whole_or_absent, write_markdown

DOCUMENTS = 4
KILL_AFTER_FIRST_WRITE = 0.7
"""Share of kills aimed at the write phase (after the first document commits); the rest land anywhere."""


@dataclass
class KillLoopResult:
    iterations: int = 0
    killed_while_writing: int = 0
    finished_before_kill: int = 0
    orphans_before_gc: list[int] = field(default_factory=list)
    orphans_after_gc: list[int] = field(default_factory=list)
    documents_whole: int = 0
    documents_absent: int = 0
    seconds: float = 0.0


def kill_loop(
    iterations: int, workdir: Path, env: dict[str, str], *, seed: int = 0, say=lambda message: None
) -> KillLoopResult:
    """Run `iterations` kills against the database and data dir named by `env` (QUARRY_* variables)."""
    rng = random.Random(seed)
    folder = workdir / "docs"
    versions: dict[str, list[Version]] = {f"doc{n}": [] for n in range(DOCUMENTS)}
    settings = load_settings(Path(os.devnull), environ={k: v for k, v in env.items() if k.startswith("QUARRY_")})
    blobs = LocalBlobStore(settings.data_dir / "blobs")
    result = KillLoopResult()
    started = time.perf_counter()
    for iteration in range(iterations):
        for doc_id in rng.sample(sorted(versions), 2):
            versions[doc_id].append(
                write_markdown(
                    folder,
                    doc_id,
                    images=rng.randint(1, 3),
                    seed=iteration * 10 + int(doc_id[-1]),
                    published_at=_published(len(versions[doc_id])),
                )
            )
        killed_writing, finished = _ingest_and_kill(folder, env, rng)
        result.killed_while_writing += killed_writing
        result.finished_before_kill += finished
        with Database.open(settings.database, settings.embedding, settings.data_dir) as db:
            held = assert_whole_or_absent(db, blobs, versions)
            result.documents_whole += sum(v is not None for v in held.values())
            result.documents_absent += sum(v is None for v in held.values())
            with db.transaction() as conn:
                referenced = {r["blob_key"] for r in conn.execute("SELECT blob_key FROM assets")}
            result.orphans_before_gc.append(sum(1 for b in blobs.list() if b.key not in referenced))
            collect_garbage(db, blobs, grace_seconds=0)
            assert_no_orphans(db, blobs)
            result.orphans_after_gc.append(0)
        result.iterations += 1
        say(
            f"kill {iteration + 1}/{iterations}: {'while writing' if killed_writing else 'finished first' if finished else 'early'}; "
            f"whole {sum(v is not None for v in held.values())}/{DOCUMENTS}, orphans before gc {result.orphans_before_gc[-1]}"
        )
    result.seconds = time.perf_counter() - started
    return result


def _ingest_and_kill(folder: Path, env: dict[str, str], rng: random.Random) -> tuple[bool, bool]:
    """(killed after a document had committed, the process finished before the kill)."""
    process = subprocess.Popen(
        [sys.executable, "-m", "quarry.agent.cli.main", "ingest", str(folder)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    assert process.stderr is not None
    aim_at_writes = rng.random() < KILL_AFTER_FIRST_WRITE
    if aim_at_writes:
        for line in process.stderr:
            if line.startswith("ingesting ["):
                break
        time.sleep(rng.uniform(0, 0.03))
    else:
        time.sleep(rng.uniform(0, 6.0))
    finished = process.poll() is not None
    if not finished:
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    process.stderr.close()
    return aim_at_writes and not finished, finished


def _published(version: int) -> str:
    """Each new version of a document is published an hour after the previous one."""
    moment = datetime(2024, 1, 1, tzinfo=UTC) + timedelta(hours=version)
    return moment.isoformat().replace("+00:00", "Z")
