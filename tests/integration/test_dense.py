from datetime import UTC, datetime

import numpy as np
import pytest

from quarry.corpus.filters import Principal, SearchFilters
from quarry.corpus.store import DocumentStore
from quarry.tools.config import DenseConfig
from quarry.tools.dense import DenseSearch
from tests.support.helpers import chunks_of, make_document, unit_vectors

PUBLIC = Principal(groups=("public",))


def put(store: DocumentStore, doc_id: str, vector: np.ndarray, **meta) -> None:
    document = make_document(doc_id, f"Passage of {doc_id}.", **meta)
    store.write(document, chunks_of(document), vector[None, :])


def ids(result) -> list[str]:
    return [hit.document_id for hit in result.hits]


def chunk_ids(result) -> list[int]:
    return [hit.chunk_id for hit in result.hits]


@pytest.mark.parametrize("strategy", ["exact", "hnsw", None])
def test_forbidden_chunk_never_returned_even_when_it_is_the_best_match(store, db, strategy):
    query, *others = unit_vectors(6, seed=1)
    put(store, "secret", query, access=["security"])  # identical to the query: cosine 1.0
    for n, vector in enumerate(others):
        put(store, f"open{n}", vector)
    store.analyze()
    dense = DenseSearch(db, DenseConfig())
    assert "secret" not in ids(dense.search(query, k=10, principal=PUBLIC, strategy=strategy))
    assert ids(dense.search(query, k=1, principal=Principal(groups=("security",)), strategy=strategy)) == ["secret"]
    assert dense.search(query, k=10, principal=Principal(groups=()), strategy=strategy).hits == []


def test_each_metadata_filter_applies(store, db):
    vectors = unit_vectors(4, seed=2)
    put(
        store,
        "a",
        vectors[0],
        domain="incidents",
        author="Dana Okafor",
        tags=["db"],
        published_at="2023-05-01T00:00:00Z",
    )
    put(
        store,
        "b",
        vectors[1],
        domain="engineering",
        author="Dana Okafor",
        tags=["api"],
        published_at="2024-05-01T00:00:00Z",
    )
    put(
        store,
        "c",
        vectors[2],
        domain="engineering",
        author="Sam Lee",
        tags=["db", "api"],
        published_at="2025-05-01T00:00:00Z",
    )
    put(
        store,
        "d",
        vectors[3],
        domain="engineering",
        author="Sam Lee",
        tags=[],
        published_at="2025-06-01T00:00:00Z",
        access=["sre"],
    )
    dense = DenseSearch(db, DenseConfig())

    def found(**filters) -> set[str]:
        return set(ids(dense.search(vectors[0], k=10, principal=PUBLIC, filters=SearchFilters(**filters))))

    assert found() == {"a", "b", "c"}
    assert found(domains=("engineering",)) == {"b", "c"}
    assert found(authors=("Dana Okafor",)) == {"a", "b"}
    assert found(tags=("db",)) == {"a", "c"}
    assert found(published_after=datetime(2024, 1, 1, tzinfo=UTC)) == {"b", "c"}
    assert found(published_before=datetime(2024, 1, 1, tzinfo=UTC)) == {"a"}
    assert found(domains=("engineering",), authors=("Sam Lee",)) == {"c"}


def test_hits_carry_provenance_and_scores_descend(store, db):
    vectors = unit_vectors(3, seed=3)
    for n, vector in enumerate(vectors):
        put(store, f"doc{n}", vector)
    hits = DenseSearch(db, DenseConfig()).search(vectors[1], k=3, principal=PUBLIC).hits
    assert hits[0].document_id == "doc1" and hits[0].score == pytest.approx(1.0, abs=1e-5)
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    top = hits[0]
    assert (top.title, top.source, top.start_char, top.text) == ("Title doc1", "/corpus/doc1.md", 0, "Passage of doc1.")
    assert top.end_char == len("Passage of doc1.")


def clustered(count: int, seed: int, clusters: int = 40) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = unit_vectors(clusters, seed=seed + 1)
    vectors = centres[rng.integers(0, clusters, count)] + rng.normal(scale=0.04, size=(count, 384))
    return (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)


@pytest.fixture
def selective_corpus(store, db):
    """4,000 chunks in 400 documents; 1% of chunks have domain 'rare', 10% have tag 'tenth'."""
    vectors = clustered(4000, seed=7)
    for n in range(400):
        document = make_document(
            f"d{n:03}",
            " ".join(f"Passage {n} sentence {i} covers one distinct topic here." for i in range(10)),
            domain="rare" if n % 100 == 0 else "common",
            tags=["tenth"] if n % 10 == 3 else [],
        )
        chunks = chunks_of(document, max_tokens=16)
        assert len(chunks) == 10
        store.write(document, chunks, vectors[n * 10 : n * 10 + 10])
    store.analyze()


def recall(found: list[int], exact: list[int]) -> float:
    return len(set(found) & set(exact)) / len(exact)


def test_selective_filter_keeps_recall_against_exact(db, selective_corpus):
    queries = clustered(20, seed=99)
    dense = DenseSearch(db, DenseConfig())
    rare = SearchFilters(domains=("rare",))
    recalls = []
    for query in queries:
        exact = chunk_ids(dense.search(query, k=10, principal=PUBLIC, filters=rare, strategy="exact"))
        chosen = dense.search(query, k=10, principal=PUBLIC, filters=rare)
        assert len(exact) == 10 and len(chosen.hits) == 10
        assert chosen.plan.strategy == "exact", "1% of 4,000 rows is far below exact_scan_max_rows"
        recalls.append(recall(chunk_ids(chosen), exact))
    assert np.mean(recalls) >= 0.95


def test_moderate_filter_widens_ef_search_and_keeps_recall(db, selective_corpus):
    queries = clustered(20, seed=123)
    dense = DenseSearch(db, DenseConfig(exact_scan_max_rows=0))  # force the index path
    tenth = SearchFilters(tags=("tenth",))
    recalls = []
    for query in queries:
        exact = chunk_ids(dense.search(query, k=10, principal=PUBLIC, filters=tenth, strategy="exact"))
        chosen = dense.search(query, k=10, principal=PUBLIC, filters=tenth)
        assert chosen.plan.strategy == "hnsw" and chosen.plan.ef_search >= 250
        recalls.append(recall(chunk_ids(chosen), exact))
    assert np.mean(recalls) >= 0.95


def test_plan_choice_follows_estimated_selectivity(db, selective_corpus):
    query = clustered(1, seed=5)[0]
    dense = DenseSearch(db, DenseConfig(exact_scan_max_rows=100))
    rare = dense.search(query, k=10, principal=PUBLIC, filters=SearchFilters(domains=("rare",))).plan
    wide = dense.search(query, k=10, principal=PUBLIC).plan
    assert rare.strategy == "exact" and 20 <= rare.estimated_rows <= 80
    assert wide.strategy == "hnsw" and wide.ef_search == DenseConfig().ef_search_min and wide.estimated_rows > 3000
