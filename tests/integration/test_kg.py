"""Knowledge graph on real PostgreSQL: extraction stored atomically, multi-hop retrieval, access."""

import pytest

from quarry.corpus.entities import OfflineExtractor
from quarry.corpus.filters import Principal
from quarry.corpus.store import DocumentStore
from quarry.tools.config import GraphConfig
from quarry.tools.kg import GraphSearch
from tests.support.helpers import chunks_of, make_document, unit_vectors

PUBLIC = Principal(groups=("public",))
DOCS = {
    "incident": ("March outage report", "On 14 March Ledgerline failed to publish settlement files for six hours."),
    "design": ("Ledgerline design", "Ledgerline is owned by the Payments Core team. It reads from Keel."),
    "team": ("Payments Core page", "Payments Core is led by Dana Okafor. The team sits in Frankfurt."),
    "other": ("Beacon overview", "Beacon carries shipment events for Tidewater."),
}
SECRET = ("Vendor review", "Ledgerline signs files with keys from Vaultwright. Vaultwright is audited by Greyline.")


def write(store: DocumentStore, doc_id: str, title: str, text: str, **meta) -> None:
    document = make_document(doc_id, text, title=title, **meta)
    chunks = chunks_of(document, max_tokens=64)
    extraction = OfflineExtractor().extract(title, text, chunks)
    store.write(document, chunks, unit_vectors(len(chunks), seed=len(text)), extraction)


@pytest.fixture
def graph(store, db) -> GraphSearch:
    for doc_id, (title, text) in DOCS.items():
        write(store, doc_id, title, text)
    write(store, "secret", *SECRET, access=["security"])
    return GraphSearch(db, GraphConfig(max_depth=2))


def count(db, table: str, document_id: str) -> int:
    with db.transaction() as conn:
        return conn.execute(f"SELECT count(*) AS n FROM {table} WHERE document_id = %s", (document_id,)).fetchone()["n"]


def test_two_hop_question_reaches_the_team_page_through_the_bridge(graph):
    result = graph.search("Who leads the team that owns Ledgerline?", k=10, principal=PUBLIC)
    assert [e.surface for e in result.linked] == ["ledgerline"]
    by_document = {h.document_id: h for h in result.hits}
    assert "team" in by_document, "the team page names no query entity; only the bridge reaches it"
    path = result.paths[by_document["team"].chunk_id]
    assert path == ("Ledgerline", "—owned by→", "Payments Core", "—led by→", "Dana Okafor")


def test_forbidden_evidence_is_neither_traversed_nor_named(graph):
    result = graph.search("Ledgerline signing keys", k=10, principal=PUBLIC)
    assert "secret" not in {h.document_id for h in result.hits}
    named = {step for path in result.paths.values() for step in path}
    assert not named & {"Vaultwright", "Greyline", "Vendor review"}
    assert graph.search("Vaultwright", k=10, principal=PUBLIC).hits == []
    allowed = graph.search("Vaultwright", k=10, principal=Principal(groups=("security",)))
    assert {h.document_id for h in allowed.hits} == {"secret"}


def test_an_edge_is_labelled_only_by_evidence_the_reader_may_read(store, db):
    """A bridge both documents name: the public one only co-mentions the pair, the secret one names
    the relation. The public reader's path must not carry the secret's label."""
    write(store, "rack", "Rack plan", "Keel and Beacon share a rack in Frankfurt.")
    write(store, "deal", "Deal memo", "Keel is acquired by Beacon.", access=["leadership"])
    graph = GraphSearch(db, GraphConfig(max_depth=2))

    def labels(principal: Principal) -> set[str]:
        paths = graph.search("Keel", k=10, principal=principal).paths.values()
        return {step for path in paths for step in path[1::2]}

    assert any("acquired" in label for label in labels(Principal(groups=("leadership",))))
    public = labels(PUBLIC)
    assert public and not any("acquired" in label for label in public), public


def test_replacing_a_document_replaces_its_graph_rows(store, db, graph):
    assert count(db, "relations", "design") > 0
    write(store, "design", "Ledgerline design", "Ledgerline is now owned by the Edge team.")
    result = graph.search("Who owns Ledgerline?", k=10, principal=PUBLIC)
    paths = {step for path in result.paths.values() for step in path}
    assert "Edge" in paths
    with db.transaction() as conn:
        stale = conn.execute(
            "SELECT count(*) AS n FROM mentions m JOIN entities e ON e.id = m.entity_id"
            " WHERE m.document_id = 'design' AND e.key = 'keel'"
        ).fetchone()["n"]
    assert stale == 0, "mentions of the old text are gone"
    store.delete("design")
    assert count(db, "mentions", "design") == count(db, "relations", "design") == 0


def test_graph_rows_roll_back_with_a_failed_write(store, db, graph):
    before = (count(db, "mentions", "team"), count(db, "relations", "team"))
    with db.transaction() as conn:
        conn.execute(
            "CREATE FUNCTION no_relations() RETURNS trigger LANGUAGE plpgsql AS $$"
            " BEGIN RAISE EXCEPTION 'injected fault'; END $$"
        )
        conn.execute("CREATE TRIGGER fault BEFORE INSERT ON relations FOR EACH ROW EXECUTE FUNCTION no_relations()")
    from quarry.corpus.db import StorageError

    with pytest.raises(StorageError, match="injected fault"):
        write(store, "team", "Payments Core page", "Payments Core is now led by Leila Haddad.")
    assert (count(db, "mentions", "team"), count(db, "relations", "team")) == before
    assert "Dana Okafor" in store.document("team").body


def test_linking_by_alias_and_fuzzy_match(graph):
    fuzzy = graph.search("Who owns Ledgerlin?", k=5, principal=PUBLIC)
    assert [(e.surface, e.how) for e in fuzzy.linked] == [("ledgerlin", "fuzzy")]
    assert fuzzy.hits, "a typo still reaches the documents about Ledgerline"
    alias = graph.search("what does okafor lead", k=5, principal=PUBLIC)
    assert [(e.surface, e.how) for e in alias.linked] == [("okafor", "alias")]
    assert {h.document_id for h in alias.hits} >= {"team"}


def test_unreadable_entities_are_not_linked_even_by_fuzzy_match(graph):
    assert graph.search("Vaultwrigt", k=5, principal=PUBLIC).linked == []
    assert [e.how for e in graph.search("Vaultwrigt", k=5, principal=Principal(groups=("security",))).linked] == [
        "fuzzy"
    ]
