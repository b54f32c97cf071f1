"""Fill the blob store's disk during `quarry ingest`, then make room and ingest again: what a user
sees, and what is stored after each step. Shared by tests/e2e/test_blob_disk_full.py and
bench/bench_faults.py.

Two real kernel write failures at the blob store: a file-size limit on the ingest process
(RLIMIT_FSIZE → EFBIG; any user may set it) and a tiny tmpfs as the data directory (ENOSPC; only
where mounting is allowed, i.e. as root).
"""

import io
import random
import resource
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import psycopg
from PIL import Image

from quarry.corpus.blobs import LocalBlobStore
from tests.support.cli_env import quarry_env

How = Literal["file-size-limit", "full-filesystem"]
IMAGE_BYTES = 96 * 1024
CAUSE = {"file-size-limit": "File too large", "full-filesystem": "No space left on device"}


class CannotFillDisk(Exception):
    """This machine does not allow the requested way of filling the disk (mounting needs root)."""


@dataclass(frozen=True)
class DiskFullOutcome:
    how: How
    exit_code: int
    stderr: str
    text_only: tuple[str, ...]
    with_images: tuple[str, ...]
    refused: tuple[str, ...]
    """Documents the full ingest named as refused."""
    stored_when_full: dict[str, int]
    """Document id → asset rows after the full ingest."""
    partial_files: int
    """Temporary blob files left behind by the failed writes."""
    exit_code_with_room: int
    stored_with_room: dict[str, int]

    @property
    def traceback(self) -> bool:
        return "Traceback" in self.stderr

    @property
    def data_lost(self) -> int:
        """Documents missing, or stored without all their images, once there was room again."""
        expected = {**{d: 0 for d in self.text_only}, **{d: 2 for d in self.with_images}}
        return sum(1 for doc, assets in expected.items() if self.stored_with_room.get(doc) != assets)


def run_disk_full(how: How, pg_url: str, schema: str, workdir: Path) -> DiskFullOutcome:
    folder, data_dir = workdir / "corpus", workdir / "data"
    text_only, with_images = _write_corpus(folder)
    env = quarry_env(QUARRY_DATABASE_URL=pg_url, QUARRY_DATABASE__SCHEMA_NAME=schema, QUARRY_DATA_DIR=str(data_dir))
    preexec = None
    if how == "file-size-limit":
        preexec = _limit_file_size(IMAGE_BYTES // 2)
    else:
        data_dir.mkdir(parents=True, exist_ok=True)
        if subprocess.run(
            ["mount", "-t", "tmpfs", "-o", "size=160k", "tmpfs", str(data_dir)], capture_output=True
        ).returncode:
            raise CannotFillDisk("mounting a tmpfs needs root")
    try:
        full = _ingest(env, folder, preexec)
        refused = tuple(doc for doc in text_only + with_images if f"refused {folder / doc}.md:" in full.stderr)
        when_full = _stored(pg_url, schema, data_dir)
        partial = len(list(data_dir.glob("blobs/**/.incoming-*")))
        if how == "full-filesystem":
            subprocess.run(["mount", "-o", "remount,size=16m", str(data_dir)], check=True)
        again = _ingest(env, folder)
        with_room = _stored(pg_url, schema, data_dir)
    finally:
        if how == "full-filesystem":
            subprocess.run(["umount", str(data_dir)], capture_output=True)
    return DiskFullOutcome(
        how,
        full.returncode,
        full.stderr,
        tuple(text_only),
        tuple(with_images),
        refused,
        when_full,
        partial,
        again.returncode,
        with_room,
    )


def _noise_png(seed: int) -> bytes:
    """An incompressible PNG of about IMAGE_BYTES."""
    rng = random.Random(seed)
    side = int((IMAGE_BYTES / 3) ** 0.5)
    image = Image.frombytes("RGB", (side, side), rng.randbytes(side * side * 3))
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def _write_corpus(folder: Path) -> tuple[list[str], list[str]]:
    """Four text-only documents and three with two big images each."""
    folder.mkdir(parents=True)
    text_only, with_images = [], []
    for n in range(7):
        doc_id = f"report-{n}"
        refs = ""
        if n % 2:
            for i in range(2):
                (folder / f"{doc_id}-{i}.png").write_bytes(_noise_png(n * 10 + i))
            refs = "\n\n" + "\n\n".join(f"![Chart {i} of report {n}]({doc_id}-{i}.png)" for i in range(2))
            with_images.append(doc_id)
        else:
            text_only.append(doc_id)
        (folder / f"{doc_id}.md").write_text(
            f"---\nid: {doc_id}\ntitle: Report {n}\nauthor: Ops\ndomain: engineering\n"
            f"published_at: 2024-03-1{n}T09:00:00Z\naccess: [public]\n---\n# Report {n}\n\n"
            f"Report {n} describes the quarterly throughput of the settlement pipeline.{refs}\n"
        )
    return text_only, with_images


def _limit_file_size(limit: int):
    def apply() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit then fails with EFBIG instead of killing
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, resource.getrlimit(resource.RLIMIT_FSIZE)[1]))

    return apply


def _ingest(env: dict[str, str], folder: Path, preexec=None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "quarry.agent.cli.main", "ingest", str(folder)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        preexec_fn=preexec,
    )


def _stored(pg_url: str, schema: str, data_dir: Path) -> dict[str, int]:
    """Document id → its asset rows; an asset row whose blob is missing counts the document as -1."""
    with psycopg.connect(pg_url, options=f"-c search_path={schema}") as conn:
        docs = dict(
            conn.execute(
                "SELECT d.id, count(a.ordinal) FROM documents d LEFT JOIN assets a ON a.document_id = d.id GROUP BY d.id"
            ).fetchall()
        )
        rows = conn.execute("SELECT document_id, blob_key FROM assets").fetchall()
    blobs = LocalBlobStore(data_dir / "blobs")
    for document_id, key in rows:
        if not blobs.exists(key):
            docs[document_id] = -1
    return docs
