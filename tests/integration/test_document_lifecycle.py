"""The document lifecycle (issue 20: H1, H2, H4, M6, L3's tags): delete by id, source or filter with
everything derived from a document; prune vanished files; a re-ingest of the same file is
authoritative; an id belongs to its file; JSONL records keep their identity when lines move."""

import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from quarry.agent import Assistant
from quarry.agent.settings import Settings
from quarry.corpus.blobs import blob_key
from quarry.corpus.embed import LocalEmbeddings
from quarry.corpus.filters import Principal, SearchFilters
from quarry.errors import UsageError
from quarry.records import AnswerRecord, CitationRecord, SpendRecord
from quarry.tools.cache import NewEntry
from tests.support.image_corpus import png

pytestmark = pytest.mark.integration
PUBLIC = Principal(id="pub", groups=("public",))


def markdown(title: str, body: str, *, access: str = "public", published: str = "2024-05-01", extra: str = "") -> str:
    return (
        f"---\ntitle: {title}\nauthor: Ana Ruiz\ndomain: engineering\npublished_at: {published}\n"
        f"access: [{access}]\n{extra}---\n{body}\n"
    )


@pytest.fixture
def assistant(settings: Settings, embedder: LocalEmbeddings) -> Iterator[Assistant]:
    with Assistant(settings, environ={}, embedder=embedder) as opened:
        yield opened
        opened.components.db.drop_schema()


def _count(assistant: Assistant, sql: str, *params: object) -> int:
    with assistant.components.db.transaction() as conn:
        return int(conn.execute(sql, params).fetchone()["n"])


def _bm25_documents(assistant: Assistant, query: str) -> set[str]:
    hits = assistant.components.bm25.search(query, k=10, principal=PUBLIC, filters=SearchFilters())
    return {hit.document_id for hit in hits}


def _cache_answer_citing(assistant: Assistant, document_id: str, source: str, question: str) -> int:
    citation = CitationRecord(
        number=1,
        document_id=document_id,
        chunk_id=1,
        title="t",
        source=source,
        start_char=0,
        end_char=1,
        text="x",
        support=1.0,
    )
    answer = AnswerRecord(
        question=question,
        answer="An answer [1].",
        citations=[citation],
        partial=False,
        stopped_by=None,
        hops=1,
        spend=SpendRecord(usd=0.0, input_tokens=0, output_tokens=0, llm_calls=0),
        run_id=str(uuid.uuid4()),
        elapsed_s=0.1,
    )
    return assistant.components.cache.store(
        NewEntry(
            question=question,
            vector=assistant.components.embedder.embed_query(question),
            principal=PUBLIC,
            filters=SearchFilters(),
            corpus_version=assistant.components.store.corpus_version(),
            answer=answer,
            run_id=answer.run_id,
            cost_usd=0.01,
            tokens=10,
        )
    )


def test_delete_removes_chunks_graph_evidence_bm25_entries_cached_answers_and_then_blobs(
    assistant: Assistant, tmp_path: Path
):
    docs = tmp_path / "docs"
    docs.mkdir()
    image = png(7)
    (docs / "chart.png").write_bytes(image)
    (docs / "payroll.md").write_text(
        markdown("Payroll run", "Quillfeather Payroll runs on Harbor Gate every Friday.\n\n![Payroll chart](chart.png)")
    )
    (docs / "beacon.md").write_text(markdown("Beacon", "Beacon carries shipment events for Ledgerline."))
    assert assistant.ingest(docs).ingested == 2
    payroll = assistant.components.store.matching(sources=[str(docs / "payroll.md")])[0]
    beacon = assistant.components.store.matching(sources=[str(docs / "beacon.md")])[0]
    assert _bm25_documents(assistant, "Quillfeather") == {payroll.id}
    citing = _cache_answer_citing(assistant, payroll.id, payroll.source, "When does payroll run?")
    other = _cache_answer_citing(assistant, beacon.id, beacon.source, "What does Beacon carry?")
    assert _count(assistant, "SELECT count(*) AS n FROM relations WHERE document_id = %s", payroll.id) > 0

    deletion = assistant.delete(payroll.id)

    assert [ref.id for ref in deletion.documents] == [payroll.id] and deletion.cache_entries == 1
    assert assistant.components.store.document(payroll.id) is None
    for table in ("chunks", "mentions", "relations", "assets"):
        assert _count(assistant, f"SELECT count(*) AS n FROM {table} WHERE document_id = %s", payroll.id) == 0
    assert _bm25_documents(assistant, "Quillfeather") == set()
    with assistant.components.db.transaction() as conn:
        remaining = {row["id"] for row in conn.execute("SELECT id FROM cache_entries")}
    assert citing not in remaining and other in remaining
    assert assistant.components.blobs.exists(blob_key(image))
    assistant.components.collect_garbage(grace_seconds=0)
    assert not assistant.components.blobs.exists(blob_key(image)), "gc collects the deleted document's blob"
    assert assistant.components.store.document(beacon.id) is not None


def test_delete_by_source_and_by_filter_and_refusals(assistant: Assistant, tmp_path: Path):
    from quarry.errors import DocumentNotFound

    docs = tmp_path / "docs"
    (docs / "hr").mkdir(parents=True)
    (docs / "hr" / "leave.md").write_text(markdown("Leave", "Leave policy text."))
    (docs / "hr" / "pay.md").write_text(markdown("Pay", "Pay policy text.", extra="tags: [pay]\n"))
    (docs / "ops.md").write_text(markdown("Ops", "Ops runbook text.", extra="tags: [pay]\n"))
    assert assistant.ingest(docs).ingested == 3
    with pytest.raises(UsageError, match="name the documents to delete"):
        assistant.delete()
    with pytest.raises(DocumentNotFound, match="no document has the id 'nope'"):
        assistant.delete("nope")
    assert assistant.components.store.counts().documents == 3, "a refused delete deletes nothing"

    preview = assistant.delete(sources=[docs / "hr"], filters={"tags": ["pay"]}, dry_run=True)
    assert [ref.title for ref in preview.documents] == ["Pay"] and assistant.components.store.counts().documents == 3
    assert sorted(ref.title for ref in assistant.delete(sources=[docs / "hr"]).documents) == ["Leave", "Pay"]
    assert [ref.title for ref in assistant.delete(filters={"tags": ["pay"]}).documents] == ["Ops"]
    assert assistant.components.store.counts().documents == 0


def test_a_moved_file_is_reported_vanished_and_prune_removes_the_public_copy(assistant: Assistant, tmp_path: Path):
    root = tmp_path / "corpus"
    (root / "public").mkdir(parents=True)
    (root / "finance").mkdir()
    (root / "public" / "salaries.md").write_text(markdown("Salaries", "Quillfeather salary bands for 2025."))
    assert assistant.ingest(root).ingested == 1
    (root / "public" / "salaries.md").rename(root / "finance" / "salaries.md")
    text = (root / "finance" / "salaries.md").read_text().replace("access: [public]", "access: [finance]")
    (root / "finance" / "salaries.md").write_text(text)

    report = assistant.ingest(root)
    assert [ref.origin for ref in report.vanished] == [str(root / "public" / "salaries.md")]
    assert report.removed == [] and _bm25_documents(assistant, "Quillfeather"), "reported, kept without --prune"

    pruned = assistant.ingest(root, prune=True)
    assert [ref.origin for ref in pruned.removed] == [str(root / "public" / "salaries.md")]
    assert _bm25_documents(assistant, "Quillfeather") == set(), "no public copy is left"
    assert assistant.components.store.counts().documents == 1


def test_restricting_access_with_an_earlier_date_replaces_the_public_version(assistant: Assistant, tmp_path: Path):
    memo = tmp_path / "memo.md"
    memo.write_text(markdown("Memo", "Quillfeather budget memo.", published="2024-05-01"))
    assert assistant.ingest(memo).ingested == 1
    memo.write_text(markdown("Memo", "Quillfeather budget memo.", access="finance", published="2024-01-01"))

    report = assistant.ingest(memo)

    assert [Path(label).name for label in report.replaced] == ["memo.md"], report.summary()
    [stored] = assistant.components.store.matching(sources=[str(memo)])
    assert assistant.components.store.document(stored.id).access == ("finance",)
    assert _bm25_documents(assistant, "Quillfeather") == set()


def test_an_id_belongs_to_its_file_unless_forced_and_generated_ids_are_reserved(assistant: Assistant, tmp_path: Path):
    (tmp_path / "a.md").write_text(markdown("Original", "Original text.", extra="id: handbook\n"))
    assert assistant.ingest(tmp_path / "a.md").ingested == 1
    (tmp_path / "b.md").write_text(
        markdown("Impostor", "Impostor text.", published="2025-01-01", extra="id: handbook\n")
    )
    (tmp_path / "c.md").write_text(markdown("Generated", "Some text.", extra="id: doc_0123456789abcdef0123\n"))
    (tmp_path / "d.md").write_text(markdown("Claims a", "Other text.", extra=f"source: {tmp_path / 'a.md'}\n"))

    report = assistant.ingest(tmp_path / "b.md", tmp_path / "c.md", tmp_path / "d.md")

    reasons = {Path(r.label).name: r.reason for r in report.refused}
    assert reasons["b.md"].startswith(f"id 'handbook' belongs to '{tmp_path / 'a.md'}', another source")
    assert "--force" in reasons["b.md"]
    assert "ids starting with 'doc_' are reserved" in reasons["c.md"]
    assert "'source' names a local file" in reasons["d.md"]
    assert report.ingested == 0 and assistant.components.store.document("handbook").title == "Original"

    forced = assistant.ingest(tmp_path / "b.md", force=True)
    assert forced.ingested == 1 and assistant.components.store.document("handbook").title == "Impostor"


def _jsonl(path: Path, texts: list[str]) -> None:
    meta = {
        "title": "Changelog",
        "author": "Ana Ruiz",
        "domain": "eng",
        "published_at": "2024-01-01",
        "access": ["public"],
    }
    path.write_text("".join(json.dumps({"text": t, "metadata": meta}) + "\n" for t in texts))


def _stored_records(assistant: Assistant) -> dict[str, str]:
    with assistant.components.db.transaction() as conn:
        return {row["body"]: row["id"] for row in conn.execute("SELECT id, body FROM documents")}


def test_jsonl_records_keep_their_identity_when_lines_move_and_edits_never_lose_or_duplicate(
    assistant: Assistant, tmp_path: Path
):
    log = tmp_path / "log.jsonl"
    _jsonl(log, ["January release.", "February release.", "March release."])
    assert assistant.ingest(log).ingested == 3
    before = _stored_records(assistant)

    _jsonl(log, ["December release.", "January release.", "February release.", "March release."])
    report = assistant.ingest(log)
    after = _stored_records(assistant)
    assert {text: after.get(text) for text in before} == before, "every earlier record kept its id"
    assert (report.ingested, len(report.unchanged), report.removed) == (1, 3, [])

    _jsonl(log, ["December release.", "January release.", "February release, corrected."])
    edited = assistant.ingest(log)
    assert sorted(_stored_records(assistant)) == [
        "December release.",
        "February release, corrected.",
        "January release.",
    ]
    assert sorted(ref.id for ref in edited.removed) == sorted([after["February release."], after["March release."]])


def test_tags_are_stored_once_per_document_and_still_filter(assistant: Assistant, tmp_path: Path):
    tags = ", ".join(f"t{n}" for n in range(60))
    body = "\n\n".join(f"Paragraph {n} about Quillfeather settlement windows and carriers." * 3 for n in range(40))
    (tmp_path / "tagged.md").write_text(markdown("Tagged", body, extra=f"tags: [{tags}]\n"))
    assert assistant.ingest(tmp_path / "tagged.md").ingested == 1
    assert assistant.components.store.counts().chunks > 5
    copies = _count(
        assistant, "SELECT coalesce(sum(jsonb_array_length(coalesce(to_jsonb(c)->'tags', '[]'))), 0) AS n FROM chunks c"
    )
    assert copies == 0, "tags are not copied onto every chunk"
    hits = assistant.components.bm25.search("Quillfeather", k=3, principal=PUBLIC, filters=SearchFilters(tags=("t59",)))
    assert hits and not assistant.components.bm25.search(
        "Quillfeather", k=3, principal=PUBLIC, filters=SearchFilters(tags=("absent",))
    )
    dense, _ = assistant.components.store.nearest(
        np.asarray(assistant.components.embedder.embed_query("settlement"), dtype=np.float32),
        k=3,
        principal=PUBLIC,
        filters=SearchFilters(tags=("t0",)),
        choose=lambda estimated, total: _Exact(),
    )
    assert dense
    (tmp_path / "many.md").write_text(
        markdown("Many", "x y z", extra=f"tags: [{tags}, {', '.join(f'u{n}' for n in range(10))}]\n")
    )
    [refusal] = assistant.ingest(tmp_path / "many.md").refused
    assert "invalid field 'tags'" in refusal.reason and "at most 64" in refusal.reason


class _Exact:
    strategy = "exact"
    ef_search = None


def test_a_document_stored_before_origins_were_recorded_is_adopted_by_the_file_that_ingests_it(
    assistant: Assistant, tmp_path: Path
):
    page = tmp_path / "page.md"
    page.write_text(markdown("Wiki page", "Wiki text.", extra="source: https://wiki.example/page\n"))
    assert assistant.ingest(page).ingested == 1
    with assistant.components.db.transaction() as conn:  # what migration 0012 leaves for a URI source
        conn.execute("UPDATE documents SET origin = ''")
    moved = tmp_path / "moved.md"
    page.rename(moved)
    report = assistant.ingest(moved)
    assert report.refused == [] and report.ingested == 1
    [ref] = assistant.components.store.matching(sources=["https://wiki.example/page"])
    assert ref.origin == str(moved)
