import threading

import numpy as np
import pytest

from quarry.corpus.db import StorageError
from quarry.corpus.store import DocumentStore, WriteOutcome
from tests.support.helpers import chunks_of, make_document, unit_vectors

TEXT_V1 = "Ledgerline settles carrier invoices every night. " * 12
TEXT_V2 = "Ledgerline was rewritten in 2025 and now settles hourly. " * 9


def write(store: DocumentStore, document, seed: int = 0) -> WriteOutcome:
    chunks = chunks_of(document)
    return store.write(document, chunks, unit_vectors(len(chunks), seed))


def test_insert_then_unchanged_then_replace(store: DocumentStore):
    v1 = make_document("ledgerline", TEXT_V1)
    assert write(store, v1) is WriteOutcome.INSERTED
    version_after_insert = store.corpus_version()
    assert write(store, v1) is WriteOutcome.UNCHANGED
    assert store.corpus_version() == version_after_insert, "a no-op must not bump corpus_version"

    v2 = make_document("ledgerline", TEXT_V2)
    assert write(store, v2) is WriteOutcome.REPLACED
    assert store.corpus_version() == version_after_insert + 1
    stored = store.document("ledgerline")
    assert stored.body == TEXT_V2 and stored.version == 2
    chunks = store.chunks("ledgerline")
    assert [c.ordinal for c in chunks] == list(range(len(chunks_of(v2))))
    assert all(TEXT_V2[c.start_char : c.end_char] == c.text for c in chunks)


def test_metadata_change_alone_replaces_and_updates_filter_columns(store: DocumentStore, db):
    write(store, make_document("memo", TEXT_V1, access=["public"]))
    assert write(store, make_document("memo", TEXT_V1, access=["leadership"])) is WriteOutcome.REPLACED
    with db.transaction() as conn:
        groups = {tuple(r["access"]) for r in conn.execute("SELECT access FROM chunks WHERE document_id = 'memo'")}
    assert groups == {("leadership",)}


def test_failure_mid_write_leaves_the_old_version_intact(store: DocumentStore, db):
    write(store, make_document("ledgerline", TEXT_V1))
    before_chunks = store.chunks("ledgerline")
    before_version = store.corpus_version()
    with db.transaction() as conn:  # a real fault inside PostgreSQL, raised on the third new chunk
        conn.execute(
            "CREATE FUNCTION fail_third_chunk() RETURNS trigger LANGUAGE plpgsql AS $$"
            " BEGIN IF NEW.ordinal = 2 THEN RAISE EXCEPTION 'injected fault'; END IF; RETURN NEW; END $$"
        )
        conn.execute("CREATE TRIGGER fault BEFORE INSERT ON chunks FOR EACH ROW EXECUTE FUNCTION fail_third_chunk()")

    with pytest.raises(StorageError, match="injected fault"):
        write(store, make_document("ledgerline", TEXT_V2))

    assert store.document("ledgerline").body == TEXT_V1
    assert store.chunks("ledgerline") == before_chunks
    assert store.corpus_version() == before_version


def test_concurrent_writers_of_one_document_leave_one_whole_version(store: DocumentStore):
    versions = [make_document("shared", f"Version {n} of the shared document. " * (5 + n)) for n in range(6)]
    barrier = threading.Barrier(len(versions))
    errors: list[BaseException] = []

    def writer(document) -> None:
        try:
            barrier.wait()
            write(store, document, seed=len(document.text))
        except BaseException as exc:  # surfaced by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(v,)) for v in versions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    stored = store.document("shared")
    [winner] = [v for v in versions if v.text == stored.body]
    chunks = store.chunks("shared")
    assert [c.text for c in chunks] == [c.text for c in chunks_of(winner)], "chunks must all belong to one version"


def test_delete_removes_chunks_and_bumps_version(store: DocumentStore):
    write(store, make_document("gone", TEXT_V1))
    version = store.corpus_version()
    assert store.delete("gone") is True
    assert store.document("gone") is None and store.chunks("gone") == []
    assert store.corpus_version() == version + 1
    assert store.delete("gone") is False


def test_mismatched_embeddings_are_rejected_before_any_write(store: DocumentStore):
    document = make_document("x", TEXT_V1)
    with pytest.raises(ValueError, match=r"chunks but 1 embeddings for 'x.md'"):
        store.write(document, chunks_of(document), np.zeros((1, 384), dtype=np.float32))
    assert store.document("x") is None
