from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from quarry.corpus.filters import Principal, SearchFilters
from quarry.corpus.store import chunk_predicate
from quarry.tools.bm25 import Bm25Search, allowed_mask
from quarry.tools.config import Bm25Config
from tests.support.helpers import chunks_of, make_document, unit_vectors

PUBLIC = Principal(groups=("public",))


def put(store, doc_id: str, text: str, **meta) -> None:
    document = make_document(doc_id, text, **meta)
    chunks = chunks_of(document, max_tokens=64)
    store.write(document, chunks, unit_vectors(len(chunks), seed=len(doc_id)))


@pytest.fixture
def bm25(db, tmp_path: Path) -> Bm25Search:
    return Bm25Search(db, Bm25Config(), tmp_path / "bm25")


def test_forbidden_chunk_never_appears_whatever_its_score(store, bm25):
    put(store, "secret", "Vaultwright Vaultwright Vaultwright holds the signing keys.", access=["security"])
    put(store, "open", "Ledgerline signs settlement files.")
    assert bm25.search("Vaultwright", k=10, principal=PUBLIC) == []
    [hit] = bm25.search("Vaultwright", k=10, principal=Principal(groups=("security",)))
    assert hit.document_id == "secret" and hit.score > 0


def test_ranking_and_provenance(store, bm25):
    put(store, "a", "Keel failover takes four minutes. Keel failover is rehearsed.")
    put(store, "b", "Keel stores shipments.")
    put(store, "c", "Beacon carries events.")
    hits = bm25.search("keel failover", k=10, principal=PUBLIC)
    assert [h.document_id for h in hits] == ["a", "b"]
    assert hits[0].score > hits[1].score > 0
    assert (
        hits[0].text == "Keel failover takes four minutes. Keel failover is rehearsed." and hits[0].title == "Title a"
    )


def test_metadata_filters_apply_before_ranking(store, bm25):
    put(
        store,
        "eng",
        "Redpanda replaced Kafka.",
        domain="engineering",
        author="Mei Watanabe",
        tags=["streaming"],
        published_at="2024-09-16T10:00:00Z",
    )
    put(
        store,
        "adr",
        "Redpanda Redpanda decision record.",
        domain="architecture",
        author="Ana Ruiz",
        tags=["adr"],
        published_at="2023-02-06T10:00:00Z",
    )

    def search(**f):
        return [h.document_id for h in bm25.search("redpanda", k=10, principal=PUBLIC, filters=SearchFilters(**f))]

    assert search() == ["adr", "eng"]
    assert search(domains=("engineering",)) == ["eng"]
    assert search(authors=("Ana Ruiz",)) == ["adr"]
    assert search(tags=("streaming",)) == ["eng"]
    assert search(published_after=datetime(2024, 1, 1, tzinfo=UTC)) == ["eng"]


def test_index_follows_corpus_version_and_persists(store, db, bm25, tmp_path: Path):
    put(store, "a", "Certwarden renews certificates.")
    assert [h.document_id for h in bm25.search("certwarden", k=5, principal=PUBLIC)] == ["a"]
    assert bm25.last_build_source == "built"
    bm25.search("certwarden", k=5, principal=PUBLIC)
    assert bm25.last_build_source == "memory"

    put(store, "b", "Certwarden pages the Edge team.")
    assert {h.document_id for h in bm25.search("certwarden", k=5, principal=PUBLIC)} == {"a", "b"}
    assert bm25.last_build_source == "built"
    assert len(list((tmp_path / "bm25").glob("*.npz"))) == 1, "older versions' files are removed"

    restarted = Bm25Search(db, Bm25Config(), tmp_path / "bm25")
    assert {h.document_id for h in restarted.search("certwarden", k=5, principal=PUBLIC)} == {"a", "b"}
    assert restarted.last_build_source == "disk"


def test_corrupt_cache_file_is_rebuilt(store, db, bm25, tmp_path: Path):
    put(store, "a", "Lantern keeps metrics.")
    bm25.search("lantern", k=5, principal=PUBLIC)
    [cache] = list((tmp_path / "bm25").glob("*.npz"))
    cache.write_bytes(b"not a zip file")
    fresh = Bm25Search(db, Bm25Config(), tmp_path / "bm25")
    assert [h.document_id for h in fresh.search("lantern", k=5, principal=PUBLIC)] == ["a"]
    assert fresh.last_build_source == "built"


GROUPS = ["public", "security", "sre", "leadership"]
DOMAINS = ["engineering", "incidents", "security"]
AUTHORS = ["Ana Ruiz", "Sam Lee"]
TAGS = ["db", "api", "tls"]
BASE = datetime(2024, 1, 1, tzinfo=UTC)


@pytest.fixture
def varied_corpus(store):
    for n in range(24):
        put(
            store,
            f"v{n:02}",
            f"Document {n} about keel.",
            access=[GROUPS[n % 4]] + (["sre"] if n % 5 == 0 else []),
            domain=DOMAINS[n % 3],
            author=AUTHORS[n % 2],
            tags=[TAGS[n % 3]] if n % 4 else [],
            published_at=(BASE + timedelta(days=30 * n)).isoformat(),
        )


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    groups=st.lists(st.sampled_from(GROUPS), max_size=3, unique=True),
    domains=st.lists(st.sampled_from(DOMAINS), max_size=2, unique=True),
    authors=st.lists(st.sampled_from(AUTHORS), max_size=1, unique=True),
    tags=st.lists(st.sampled_from(TAGS), max_size=2, unique=True),
    after=st.none() | st.integers(0, 700),
    span=st.none() | st.integers(1, 400),
)
def test_in_memory_filter_agrees_with_the_sql_predicate(
    db, bm25, varied_corpus, groups, domains, authors, tags, after, span
):
    published_after = BASE + timedelta(days=after) if after is not None else None
    published_before = (published_after or BASE) + timedelta(days=span) if span is not None else None
    filters = SearchFilters(
        domains=tuple(domains),
        authors=tuple(authors),
        tags=tuple(tags),
        published_after=published_after,
        published_before=published_before,
    )
    principal = Principal(groups=tuple(groups))
    index = bm25.index()
    in_memory = {int(index.chunk_ids[p]) for p in range(index.size) if allowed_mask(index, filters, principal)[p]}
    predicate, params = chunk_predicate(filters, principal)
    with db.transaction() as conn:
        in_sql = {row["id"] for row in conn.execute(f"SELECT id FROM chunks WHERE {predicate}", params)}
    assert in_memory == in_sql
