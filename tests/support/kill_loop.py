"""The crash loop: a real ingest process (tests/support/ingest_child.py: the Ingestor with the
configured store, embedder and blob store) of documents with images, SIGKILLed at a random point of
its work, again and again; after every kill the store must hold each document whole (one submitted
version, every image readable and matching its hash) or not at all, and gc must leave no orphan blob.

The kill point is drawn from a seeded generator among the points the ingest reaches (embedding, each
blob put, rows written inside the transaction, commit), and the child waits there to be killed: where
each kill lands does not depend on how fast the machine is.

Used by tests/e2e/test_ingest_crash.py and bench/bench_assets.py.
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
from tests.support.ingest_child import PAUSED

DOCUMENTS = 4


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
        written = []
        for doc_id in rng.sample(sorted(versions), 2):
            version = write_markdown(
                folder,
                doc_id,
                images=rng.randint(1, 3),
                seed=iteration * 10 + int(doc_id[-1]),
                published_at=_published(len(versions[doc_id])),
            )
            versions[doc_id].append(version)
            written.append(version)
        # Points the ingest of the new versions reaches: the embedding, then per document each blob
        # put, "blobs_written", "rows_written" and "committed".
        points = 1 + sum(len(v.blob_keys) + 3 for v in written)
        killed_writing, finished = _ingest_and_kill(folder, env, rng.randint(1, points), workdir / "ingest.stderr")
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


def _ingest_and_kill(folder: Path, env: dict[str, str], point: int, stderr: Path) -> tuple[bool, bool]:
    """(killed after writing began, the process finished before reaching `point`)."""
    with stderr.open("w") as errors:
        process = subprocess.Popen(
            [sys.executable, "-m", "tests.support.ingest_child", str(folder), str(point)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=errors,
            text=True,
            start_new_session=True,
        )
    assert process.stdout is not None
    paused_at = next((line.removeprefix(PAUSED).strip() for line in process.stdout if line.startswith(PAUSED)), None)
    if paused_at is not None:
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    process.stdout.close()
    if paused_at is None:
        assert process.returncode == 0, f"the ingest failed on its own: {stderr.read_text()}"
    return paused_at not in (None, "embedding"), paused_at is None


def _published(version: int) -> str:
    """Each new version of a document is published an hour after the previous one."""
    moment = datetime(2024, 1, 1, tzinfo=UTC) + timedelta(hours=version)
    return moment.isoformat().replace("+00:00", "Z")
