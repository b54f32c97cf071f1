"""Documents with images, written across the blob store and PostgreSQL: whole or absent under faults,
serialised under concurrency, refused precisely on bad input. Real PostgreSQL, real files, real model."""

import base64
import json
import threading
from collections.abc import Callable
from pathlib import Path

import psycopg
import pytest

from quarry.corpus.blobs import BlobError, LocalBlobStore
from quarry.corpus.config import ChunkingConfig
from quarry.corpus.db import Database, DatabaseUnavailable
from quarry.corpus.gc import collect_garbage
from quarry.corpus.ingest import Ingestor
from quarry.corpus.store import DocumentStore
from tests.support.image_corpus import Version, assert_no_orphans, assert_whole_or_absent, png, stored, write_markdown

pytestmark = pytest.mark.integration


class Crash(BaseException):
    """Stands in for the process dying at a step (not an Exception: nothing may catch it)."""


class Steps:
    """The ingestor's step hook: runs `action` the `nth` time `step` is reached."""

    def __init__(self) -> None:
        self.rules: list[tuple[str, int, Callable[[], None]]] = []
        self.seen: dict[str, int] = {}

    def at(self, step: str, action: Callable[[], None], nth: int = 1) -> None:
        self.rules.append((step, nth, action))

    def __call__(self, step: str) -> None:
        self.seen[step] = self.seen.get(step, 0) + 1
        for wanted, nth, action in self.rules:
            if wanted == step and self.seen[step] == nth:
                action()


@pytest.fixture
def blobs(tmp_path: Path) -> LocalBlobStore:
    return LocalBlobStore(tmp_path / "blobs")


@pytest.fixture
def steps() -> Steps:
    return Steps()


@pytest.fixture
def ingestor(store: DocumentStore, embedder, blobs: LocalBlobStore, steps: Steps) -> Ingestor:
    return Ingestor(store, embedder, ChunkingConfig(), blobs=blobs, on_step=steps, max_asset_bytes=50_000)


def _ingest(ingestor: Ingestor, folder: Path):
    return ingestor.ingest_paths([folder])


def test_all_three_shapes_of_image_land_whole_and_are_searchable(ingestor, db: Database, blobs, tmp_path: Path):
    docs = tmp_path / "docs"
    first = write_markdown(docs, "report", images=2, seed=1)
    (docs / "rack.png").write_bytes(png(7))
    (docs / "rack.png.meta.yaml").write_text(
        "id: rack\ntitle: Rack photo\nauthor: Ops\ndomain: ops\npublished_at: 2024-03-21T00:00:00Z\naccess: [public]\n"
        "caption: Photo of the Frankfurt rack hosting the primary Keel cluster\n"
    )
    record = {
        "text": "Dashboard notes.",
        "metadata": {
            "id": "dash",
            "title": "Dashboard",
            "author": "Ops",
            "domain": "ops",
            "published_at": "2024-04-01T00:00:00Z",
            "access": ["public"],
        },
        "images": [{"data": base64.b64encode(png(9)).decode(), "alt": "Beacon delivery lag dashboard"}],
    }
    (docs / "shots.jsonl").write_text(json.dumps(record) + "\n")
    report = _ingest(ingestor, docs)
    assert report.refused == [] and report.ingested == 3 and report.assets_written == 4
    assert assert_whole_or_absent(db, blobs, {"report": [first]})["report"] == first
    rack_body, _, rack_captions = stored(db, "rack")
    assert rack_body == "Photo of the Frankfurt rack hosting the primary Keel cluster" and rack_captions == 1
    dash_body, _, _ = stored(db, "dash")
    assert dash_body == "Dashboard notes.\n\n![Beacon delivery lag dashboard](image%20#1)"
    with db.transaction() as conn:
        rows = conn.execute(
            "SELECT c.body, c.start_char, c.end_char, d.body AS text FROM chunks c JOIN documents d ON d.id = c.document_id"
            " WHERE c.asset_ordinal IS NOT NULL"
        ).fetchall()
    assert len(rows) == 4 and all(r["text"][r["start_char"] : r["end_char"]] == r["body"] for r in rows)
    assert {r["body"] for r in rows} >= {"Figure 0 of report version 1", "Beacon delivery lag dashboard"}
    again = _ingest(ingestor, docs)
    assert again.ingested == 0 and len(again.unchanged) == 3


@pytest.mark.parametrize(
    ("make", "problem"),
    [
        (lambda d: (d / "x.png").write_bytes(b"GIF89a" + b"\0" * 10), "image 'x.png' is corrupt or truncated"),
        (lambda d: (d / "x.png").write_bytes(png(1)[:60]), "image 'x.png' is corrupt or truncated"),
        (
            lambda d: (d / "x.png").write_bytes(b"<svg xmlns='http://www.w3.org/2000/svg'></svg>"),
            "image 'x.png' is SVG",
        ),
        (lambda d: (d / "x.png").write_bytes(b"BM" + b"\0" * 100), "image 'x.png'"),
        (lambda d: (d / "x.png").write_bytes(png(1, size=(400, 400)) + b"\0" * 60_000), "over the 50,000-byte limit"),
        (lambda d: None, "image 'x.png' is not a readable image file inside the folder being ingested"),
    ],
)
def test_a_bad_image_refuses_its_document_and_writes_nothing(ingestor, db, blobs, tmp_path: Path, make, problem):
    docs = tmp_path / "docs"
    write_markdown(docs, "good", images=1, seed=2)
    (docs / "bad.md").write_text(
        "---\nid: bad\ntitle: Bad\nauthor: Ops\ndomain: ops\npublished_at: 2024-01-01T00:00:00Z\naccess: [public]\n---\n"
        "Text before.\n\n![fine](ok.png)\n\n![broken](x.png)\n"
    )
    (docs / "ok.png").write_bytes(png(3))
    make(docs)
    report = _ingest(ingestor, docs)
    [refusal] = report.refused
    assert refusal.label.endswith("bad.md") and problem in refusal.reason, refusal.reason
    assert stored(db, "bad") is None and stored(db, "good") is not None
    assert_no_orphans(db, blobs)  # the refused document's good image was never written either


def test_a_failed_blob_write_leaves_the_document_absent_and_gc_removes_the_rest(
    ingestor, db, blobs, tmp_path, monkeypatch
):
    docs = tmp_path / "docs"
    version = write_markdown(docs, "report", images=3, seed=4)
    real_put, calls = blobs.put, []

    def put(data: bytes) -> str:
        calls.append(1)
        if len(calls) == 2:
            raise BlobError("cannot write blob: No space left on device")
        return real_put(data)

    monkeypatch.setattr(blobs, "put", put)
    report = _ingest(ingestor, docs)
    assert [r.reason for r in report.refused] == ["not stored: cannot write blob: No space left on device"]
    assert assert_whole_or_absent(db, blobs, {"report": [version]}) == {"report": None}
    assert len(list(blobs.list())) == 1, "the first blob was written before the failure"
    assert collect_garbage(db, blobs, grace_seconds=0).deleted == 1
    assert_no_orphans(db, blobs)
    monkeypatch.setattr(blobs, "put", real_put)
    assert _ingest(ingestor, docs).ingested == 1
    assert assert_whole_or_absent(db, blobs, {"report": [version]}) == {"report": version}


@pytest.mark.parametrize("step", ["blobs_written", "rows_written"])
def test_a_crash_after_the_blobs_before_the_commit_leaves_nothing_committed(ingestor, steps, db, blobs, tmp_path, step):
    docs = tmp_path / "docs"
    version = write_markdown(docs, "report", images=2, seed=5)

    def crash() -> None:
        raise Crash(step)

    steps.at(step, crash)
    with pytest.raises(Crash):
        _ingest(ingestor, docs)
    assert assert_whole_or_absent(db, blobs, {"report": [version]}) == {"report": None}
    assert len(list(blobs.list())) == 2
    young = collect_garbage(db, blobs, grace_seconds=3600)
    assert young.deleted == 0 and young.kept_young == 2, "the grace period spares fresh blobs"
    collect_garbage(db, blobs, grace_seconds=0)
    assert_no_orphans(db, blobs)


def test_a_dropped_connection_mid_transaction_rolls_back_and_the_pool_recovers(
    ingestor, steps, db, blobs, tmp_path, pg_url
):
    docs = tmp_path / "docs"
    version = write_markdown(docs, "report", images=2, seed=6)

    def drop_the_writer() -> None:
        with psycopg.connect(pg_url, autocommit=True) as admin:
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE state = 'idle in transaction'"
                " AND pid <> pg_backend_pid() AND datname = current_database()"
            )

    steps.at("rows_written", drop_the_writer)
    with pytest.raises(DatabaseUnavailable, match="lost the connection"):
        _ingest(ingestor, docs)
    assert assert_whole_or_absent(db, blobs, {"report": [version]}) == {"report": None}
    collect_garbage(db, blobs, grace_seconds=0)
    assert_no_orphans(db, blobs)
    assert _ingest(ingestor, docs).ingested == 1, "the pool replaced the dropped connection"
    assert assert_whole_or_absent(db, blobs, {"report": [version]}) == {"report": version}


def test_a_failed_commit_refuses_the_document_and_keeps_the_old_version(ingestor, db, blobs, tmp_path):
    docs = tmp_path / "docs"
    old = write_markdown(docs, "report", images=1, seed=7, published_at="2024-01-01T00:00:00Z")
    assert _ingest(ingestor, docs).ingested == 1
    new = write_markdown(docs, "report", images=2, seed=8, published_at="2024-02-01T00:00:00Z")
    with db.transaction() as conn:  # a check that only fails at COMMIT (deferred constraint trigger)
        conn.execute(
            "CREATE FUNCTION refuse_commit() RETURNS trigger LANGUAGE plpgsql AS"
            " $$ BEGIN RAISE EXCEPTION 'commit refused by test'; END $$"
        )
        conn.execute(
            "CREATE CONSTRAINT TRIGGER fail_at_commit AFTER INSERT ON assets DEFERRABLE INITIALLY DEFERRED"
            " FOR EACH ROW EXECUTE FUNCTION refuse_commit()"
        )
    report = _ingest(ingestor, docs)
    assert len(report.refused) == 1 and "commit refused by test" in report.refused[0].reason
    assert assert_whole_or_absent(db, blobs, {"report": [old, new]}) == {"report": old}
    collect_garbage(db, blobs, grace_seconds=0)
    assert_no_orphans(db, blobs)
    assert all(blobs.exists(key) for key in old.blob_keys)


def test_eight_writers_racing_on_four_ids_leave_one_whole_version_of_each(store, embedder, blobs, db, tmp_path):
    submitted: dict[str, list[Version]] = {}
    folders = []
    for writer in range(8):
        doc_id = f"doc{writer % 4}"
        folder = tmp_path / f"writer{writer}"
        # Writers 0-3 and 4-7 submit two versions of each id from two files; one whole version must win.
        day = 10 + writer
        submitted.setdefault(doc_id, []).append(
            write_markdown(
                folder, doc_id, images=1 + writer % 3, seed=100 + writer, published_at=f"2024-05-{day:02d}T00:00:00Z"
            )
        )
        folders.append(folder)
    start = threading.Barrier(8)
    errors: list[BaseException] = []

    def run(folder: Path) -> None:
        try:
            ingestor = Ingestor(store, embedder, ChunkingConfig(), blobs=blobs)
            start.wait()
            ingestor.ingest_paths([folder], force=True)  # two files claim each id: both take it over
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(folder,)) for folder in folders]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    held = assert_whole_or_absent(db, blobs, submitted)
    for doc_id, versions in submitted.items():
        assert held[doc_id] in versions, f"{doc_id}: one submitted version is held whole"
    with db.transaction() as conn:
        assert conn.execute("SELECT count(*) AS n FROM documents").fetchone()["n"] == 4
    collect_garbage(db, blobs, grace_seconds=0)
    assert_no_orphans(db, blobs)
