"""The whole ingest pipeline with the real packaged model and real PostgreSQL."""

from pathlib import Path

import pytest

from quarry.corpus.config import ChunkingConfig
from quarry.corpus.filters import Principal
from quarry.corpus.ingest import IngestEvent, Ingestor
from quarry.tools.config import DenseConfig
from quarry.tools.dense import DenseSearch

LEDGERLINE = """---
title: Ledgerline settlement service
author: Priya Raman
domain: engineering
published_at: 2024-03-12T09:00:00Z
access: [public]
---
# Ledgerline

Ledgerline settles carrier invoices every night and publishes settlement files to banks.

It is owned by the Payments Core team, led by Dana Okafor. The on-call rotation is weekly.
"""
REVIEW = """---
title: Key management review
author: Sam Lee
domain: security
published_at: 2024-05-01
access: [security]
---
The vendor for hardware key storage is Vaultwright, chosen over two competitors in April.
"""
NO_AUTHOR = LEDGERLINE.replace("author: Priya Raman\n", "").replace("Ledgerline settlement service", "Draft")


@pytest.fixture
def ingestor(store, embedder) -> Ingestor:
    return Ingestor(store, embedder, ChunkingConfig(max_tokens=32, overlap_tokens=8))


@pytest.fixture
def docs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "ledgerline.md").write_text(LEDGERLINE)
    (folder / "review.md").write_text(REVIEW)
    (folder / "draft.md").write_text(NO_AUTHOR)
    return folder


def test_batch_ingests_good_documents_and_refuses_the_bad_one(ingestor, store, docs):
    events: list[IngestEvent] = []
    report = ingestor.ingest_paths([docs], progress=events.append)
    assert sorted(report.inserted) == ["docs/ledgerline.md", "docs/review.md"]
    assert [(r.label, r.reason) for r in report.refused] == [
        ("docs/draft.md", "missing required field 'author' (set it in front matter or pass --author)")
    ]
    assert {e.label: e.outcome for e in events} == {
        "docs/draft.md": "refused",
        "docs/ledgerline.md": "inserted",
        "docs/review.md": "inserted",
    }
    counts = store.counts()
    assert counts.documents == 2 and counts.chunks == report.chunks_written > 2
    assert "Draft" not in {store.document(d).title for d in _all_ids(store)}


def test_chunks_point_into_the_stored_document_text(ingestor, store, docs):
    ingestor.ingest_paths([docs / "ledgerline.md"])
    [doc_id] = _all_ids(store)
    body = store.document(doc_id).body
    chunks = store.chunks(doc_id)
    assert len(chunks) >= 2
    assert all(body[c.start_char : c.end_char] == c.text for c in chunks)
    assert body.startswith("# Ledgerline")


def test_reingest_is_a_no_op_until_the_document_changes(ingestor, store, docs):
    ingestor.ingest_paths([docs])
    version = store.corpus_version()
    again = ingestor.ingest_paths([docs])
    assert sorted(again.unchanged) == ["docs/ledgerline.md", "docs/review.md"] and again.ingested == 0
    assert store.corpus_version() == version

    (docs / "ledgerline.md").write_text(LEDGERLINE.replace("every night", "every hour"))
    changed = ingestor.ingest_paths([docs])
    assert changed.replaced == ["docs/ledgerline.md"] and changed.unchanged == ["docs/review.md"]
    assert store.corpus_version() == version + 1


def test_defaults_from_flags_rescue_a_document(ingestor, docs):
    report = ingestor.ingest_paths([docs / "draft.md"], defaults={"author": "Batch Author"})
    assert report.inserted == ["docs/draft.md"] and report.refused == []


def test_duplicate_ids_in_one_batch_are_refused(ingestor, docs):
    (docs / "copy.md").write_text(LEDGERLINE.replace("---\ntitle", "---\nid: ledger\ntitle", 1))
    (docs / "copy2.md").write_text(REVIEW.replace("---\ntitle", "---\nid: ledger\ntitle", 1))
    report = ingestor.ingest_paths([docs / "copy.md", docs / "copy2.md"])
    assert report.inserted == ["docs/copy.md"]
    assert report.refused[0].reason == "duplicate document id 'ledger' (also used by 'docs/copy.md' in this batch)"


def test_meaningful_search_respects_access(ingestor, db, embedder, docs):
    ingestor.ingest_paths([docs])
    dense = DenseSearch(db, DenseConfig())
    query = embedder.embed_query("which vendor stores our hardware keys?")
    public_titles = [h.title for h in dense.search(query, k=5, principal=Principal(groups=("public",))).hits]
    security_hits = dense.search(query, k=5, principal=Principal(groups=("security",))).hits
    assert "Key management review" not in public_titles
    assert security_hits[0].title == "Key management review"
    owner = dense.search(
        embedder.embed_query("who leads the team that owns Ledgerline?"), k=1, principal=Principal(groups=("public",))
    ).hits[0]
    assert "Dana Okafor" in owner.text


def _all_ids(store) -> list[str]:
    with store.db.transaction() as conn:
        return [row["id"] for row in conn.execute("SELECT id FROM documents ORDER BY id")]
