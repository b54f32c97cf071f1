"""Reader views of the in-memory indexes (issue 20: M1, L1, M10, M11, H3's graph load): statistics
and aliases come from what the reader may read, views are bounded, the BM25 file belongs to one
database, and one document cannot flood the graph."""

import uuid
from pathlib import Path

import psycopg
from psycopg.conninfo import make_conninfo

from quarry.corpus.db import Database
from quarry.corpus.entities import EntityMention, EntityRelation, Extraction, OfflineExtractor
from quarry.corpus.filters import Principal
from quarry.corpus.store import DocumentStore
from quarry.tools.bm25 import Bm25Search
from quarry.tools.config import Bm25Config, GraphConfig
from quarry.tools.kg import GraphSearch
from tests.support.helpers import chunks_of, isolated_settings, make_document, unit_vectors

PUBLIC = Principal(groups=("public",))


def put(store: DocumentStore, doc_id: str, text: str, *, title: str | None = None, **meta) -> None:
    document = make_document(doc_id, text, title=title or f"Title {doc_id}", **meta)
    chunks = chunks_of(document, max_tokens=64)
    extraction = OfflineExtractor().extract(document.metadata.title, text, chunks)
    store.write(document, chunks, unit_vectors(len(chunks), seed=len(text)), extraction)


def scores(bm25: Bm25Search, query: str) -> list[tuple[str, float]]:
    return [(h.document_id, h.score) for h in bm25.search(query, k=10, principal=PUBLIC)]


def test_m1_public_bm25_scores_ignore_restricted_words(store, db, tmp_path: Path):
    put(store, "open", "Ledgerline settles carrier invoices every night.")
    put(store, "other", "Beacon carries shipment events.")
    bm25 = Bm25Search(db, Bm25Config(), tmp_path / "bm25")
    before = {q: scores(bm25, q) for q in ("ledgerline invoices", "beacon", "carrier events")}
    put(store, "secret", "Ledgerline invoices carrier ledgerline invoices audit.", access=["finance"])
    put(store, "secret2", "Beacon beacon events carrier.", access=["finance"])
    after = {q: scores(bm25, q) for q in before}
    assert after == before, "a public reader's BM25 scores moved when finance-only documents were added"
    finance = bm25.search("ledgerline invoices", k=10, principal=Principal(groups=("finance", "public")))
    assert {h.document_id for h in finance} == {"open", "secret"}, "a reader of both sees both"


def test_l1_a_restricted_namesake_does_not_break_a_public_alias(store, db):
    put(store, "team", "Payments Core is led by Dana Okafor.", title="Payments Core page")
    put(store, "board", "Lee Okafor chairs the board. Okafor Holdings owns shares.", access=["leadership"])
    graph = GraphSearch(db, GraphConfig())
    linked = graph.search("what does okafor lead", k=5, principal=PUBLIC).linked
    assert [(e.surface, e.how) for e in linked] == [("okafor", "alias")], linked
    assert graph.search("what does okafor lead", k=5, principal=Principal(groups=("leadership",))).linked != linked


def test_l1_restricted_near_names_do_not_shadow_a_public_fuzzy_match(store, db):
    put(store, "wiki", "Ledgerline settles invoices.")
    put(store, "memo", "Ledgerlinz and Ledgerliny replaced Ledgerlinx.", access=["finance"])
    graph = GraphSearch(db, GraphConfig())
    linked = graph.search("who runs Ledgerlin", k=5, principal=PUBLIC).linked
    assert [(e.surface, e.how) for e in linked] == [("ledgerlin", "fuzzy")]


def test_m11_reader_views_are_bounded_and_least_recently_used(store, db, tmp_path: Path):
    groups = [("g1",), ("g2",), ("g3",), ("g4",)]
    for n, (group,) in enumerate(groups):
        put(store, f"d{n}", f"Keel and Beacon share rack {n}.", access=[group])
    graph = GraphSearch(db, GraphConfig(max_views=2))
    bm25 = Bm25Search(db, Bm25Config(max_views=2), tmp_path / "bm25")
    for group in [*groups, ("g4",), ("g3",)]:
        graph.search("Keel", k=5, principal=Principal(groups=group))
        bm25.search("keel", k=5, principal=Principal(groups=group))
    kg = graph.knowledge_graph()
    assert kg.cached_views == 2 and bm25.cached_views == 2
    views = kg.view(("g3",)), kg.view(("g4",))
    assert views == (kg.view(("g3",)), kg.view(("g4",))), "the two most recent views are kept"
    assert {"keel", "beacon"} <= set(views[0].by_key)


def test_m10_a_recreated_database_never_serves_the_old_index(pg_url: str, tmp_path: Path):
    settings = isolated_settings(pg_url, tmp_path / "data", schema=f"t_{uuid.uuid4().hex[:12]}")
    cache = tmp_path / "bm25"

    def fresh(text: str) -> Database:
        database = Database.open(settings.database, settings.embedding, settings.data_dir)
        put(DocumentStore(database), "only", text)
        return database

    first = fresh("Certwarden renews certificates.")
    cache.mkdir()
    legacy = cache / f"{first.schema}-v1.bm25.npz"  # the old name, keyed by schema and version only
    legacy.write_bytes(b"format 1")
    assert [h.document_id for h in Bm25Search(first, Bm25Config(), cache).search("certwarden", k=5, principal=PUBLIC)]
    assert not legacy.exists(), "a file named the old way is removed, never read"
    first.drop_schema()
    first.close()
    second = fresh("Lantern keeps metrics.")  # same schema name, same corpus version (1)
    try:
        bm25 = Bm25Search(second, Bm25Config(), cache)
        assert [h.text for h in bm25.search("lantern", k=5, principal=PUBLIC)] == ["Lantern keeps metrics."]
        assert bm25.last_build_source == "built"
        assert bm25.search("certwarden", k=5, principal=PUBLIC) == []
    finally:
        second.drop_schema()
        second.close()


def test_m10_two_databases_sharing_a_data_dir_keep_their_own_index(pg_url: str, tmp_path: Path):
    name = f"q_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(pg_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    schema = "shared_schema"
    cache = tmp_path / "bm25"
    opened = []
    try:
        for url, text in (
            (pg_url, "Certwarden renews certificates."),
            (make_conninfo(pg_url, dbname=name), "Lantern keeps metrics."),
        ):
            settings = isolated_settings(url, tmp_path / "data", schema=schema)
            database = Database.open(settings.database, settings.embedding, settings.data_dir)
            opened.append(database)
            put(DocumentStore(database), "only", text)
        one, two = (Bm25Search(database, Bm25Config(), cache) for database in opened)
        assert [h.text for h in one.search("certwarden", k=5, principal=PUBLIC)] == ["Certwarden renews certificates."]
        assert [h.text for h in two.search("lantern", k=5, principal=PUBLIC)] == ["Lantern keeps metrics."]
        assert two.last_build_source == "built" and len(list(cache.glob("*.npz"))) == 2
    finally:
        for database in opened:
            database.drop_schema()
            database.close()
        with psycopg.connect(pg_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_h3_graph_load_caps_relations_per_document(store, db):
    """One document with 6,000 relations (more than the default cap, 5,000) loads only the first 5,000
    in chunk order; a small document beside it keeps all of its own."""
    document = make_document("flood", "Names. " * 10)
    chunks = chunks_of(document, max_tokens=64)
    keys = [f"name{i:03}" for i in range(120)]
    pairs = [(a, b) for i, a in enumerate(keys) for b in keys[i + 1 :]][:6000]
    extraction = Extraction(
        mentions=[EntityMention(k, k.title(), "name", 0, 0, 5) for k in keys],
        relations=[EntityRelation(a, b, "co-mention", 0) for a, b in pairs],
        names={k: (k.title(), "name") for k in keys},
    )
    store.write(document, chunks, unit_vectors(len(chunks), seed=1), extraction)
    put(store, "team", "Payments Core is led by Dana Okafor.")
    graph = GraphSearch(db, GraphConfig()).knowledge_graph().graph
    loaded = sum(data["evidence"].total() for _, _, data in graph.edges(data=True))
    team = {n for n, d in graph.nodes(data=True) if d["key"] in {"payments core", "dana okafor"}}
    assert len(pairs) == 6000 and loaded == 5000 + sum(
        data["evidence"].total() for a, b, data in graph.edges(data=True) if {a, b} & team
    )
    assert loaded > 5000, "the small document's relations are all there"
