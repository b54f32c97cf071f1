"""Nothing half-written: a folder of fuzzed documents (good, broken, with good and bad images) is
ingested into real PostgreSQL with the real model; afterwards each document is stored whole — its
row, its text, every chunk slicing that text, every image with its blob — or not at all, and the
report names every file it refused."""

import re
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from quarry.corpus.assets import AssetIndex
from quarry.corpus.blobs import LocalBlobStore
from quarry.corpus.config import ChunkingConfig
from quarry.corpus.db import Database
from quarry.corpus.ingest import Ingestor
from quarry.corpus.loaders import Refusal, Skipped, load_paths
from quarry.corpus.metadata import SourceDocument
from quarry.corpus.store import DocumentStore
from tests.support.fuzz_inputs import write_files
from tests.support.fuzz_strategies import GOOD_METADATA, FileSet, document_files
from tests.support.helpers import isolated_settings

pytestmark = pytest.mark.integration

LIMIT = 100_000
GOOD = (
    b"---\ntitle: Ledgerline\nauthor: Priya Raman\ndomain: engineering\npublished_at: 2024-03-12T09:00:00Z\n"
    b"access: [public]\n---\nLedgerline settles invoices.\n\n![Settlement flow](good.png)\n"
)


@dataclass
class World:
    db: Database
    store: DocumentStore
    blobs: LocalBlobStore
    ingestor: Ingestor


@pytest.fixture(scope="module")
def world(pg_url: str, embedder, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    home = tmp_path_factory.mktemp("fuzz-ingest")
    settings_ = isolated_settings(pg_url, home, schema=f"f_{uuid.uuid4().hex[:12]}")
    db = Database.open(settings_.database, settings_.embedding, settings_.data_dir)
    store, blobs = DocumentStore(db), LocalBlobStore(home / "blobs")
    ingestor = Ingestor(
        store,
        embedder,
        ChunkingConfig(max_tokens=64, overlap_tokens=8),
        blobs=blobs,
        max_document_bytes=LIMIT,
        max_asset_bytes=LIMIT,
    )
    yield World(db, store, blobs, ingestor)
    db.drop_schema()


@settings(max_examples=15)
@given(st.lists(document_files, min_size=1, max_size=5))
@example(
    [
        FileSet({"doc.md": GOOD}, "doc.md"),
        FileSet(
            {"doc.md": GOOD.replace(b"title: Ledgerline", b'title: "a\\0b"')}, "doc.md"
        ),  # NUL: refused by PostgreSQL
        FileSet({"records.jsonl": b'{"text": "a\\u0000b", "metadata": {}}\n1' + b"1" * 5000 + b"\n"}, "records.jsonl"),
        FileSet({"doc.md": GOOD.replace(b"good.png", b"truncated.png")}, "doc.md"),
    ]
)
@example(
    [
        FileSet({"doc.md": GOOD}, "doc.md"),
        FileSet({"doc.md": GOOD.replace(b"---\ntitle", b"---\nid: same\ntitle")}, "doc.md"),
        FileSet({"doc.md": GOOD.replace(b"---\ntitle", b"---\nid: same\ntitle")}, "doc.md"),
    ]
)  # a duplicate id
def test_each_document_is_stored_whole_or_absent_and_each_refusal_is_named(world: World, sets: list[FileSet]):
    with world.db.transaction() as conn:
        conn.execute("DELETE FROM documents")  # chunks, assets and graph rows go by cascade
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        written = []
        for number, files in enumerate(sets):
            folder = root / f"d{number}"
            folder.mkdir()
            write_files(folder, files)
            written += [folder / name for name in files.files]
        results = [r for r in load_paths([root], max_bytes=LIMIT, max_asset_bytes=LIMIT) if not isinstance(r, Skipped)]
        report = world.ingestor.ingest_paths([root])

    outcomes = report.inserted + report.replaced + report.unchanged + [r.label for r in report.refused]
    assert sorted(outcomes) == sorted(r.label for r in results), "every document gets exactly one outcome"
    for refusal in report.refused:
        assert refusal.reason.strip() and "Traceback" not in refusal.reason
        assert Path(re.sub(r":\d+$", "", refusal.label)) in written, f"{refusal.label} names no file written"
    assert [r for r in results if isinstance(r, Refusal)] == [
        r for r in report.refused if not r.reason.startswith(("not stored", "duplicate"))
    ]

    inserted = {r.id: r for r in results if isinstance(r, SourceDocument) and r.label in report.inserted}
    assert stored_ids(world.db) == set(inserted), "stored: exactly the documents reported inserted"
    assets = AssetIndex(world.db, world.blobs)
    for doc_id, document in inserted.items():
        row = world.store.document(doc_id)
        assert row is not None and row.body == document.text and row.content_hash == document.content_hash
        chunks = world.store.chunks(doc_id)
        assert [c.ordinal for c in chunks] == list(range(len(chunks))) and chunks
        for chunk in chunks:
            assert row.body[chunk.start_char : chunk.end_char] == chunk.text, f"{document.label} chunk {chunk.ordinal}"
        images = assets.of_document(doc_id)
        assert [(a.name, a.caption) for a in images] == [(a.name, a.caption) for a in document.assets]
        assert all(world.blobs.exists(a.blob_key) for a in images)


def stored_ids(db: Database) -> set[str]:
    with db.transaction() as conn:
        return {row["id"] for row in conn.execute("SELECT id FROM documents").fetchall()}


def test_the_good_metadata_used_by_the_strategies_is_accepted():
    from quarry.corpus.metadata import validate_metadata

    assert (
        validate_metadata("x", {"source": "/x", **GOOD_METADATA}, where="test").title == "Ledgerline settlement service"
    )
