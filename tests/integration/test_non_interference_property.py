"""Non-interference as a property (issue 20): for random public corpora and random restricted
documents drawn from the same names and words, a public reader's BM25 and graph results (hits, order,
scores, paths, linked entities) are the same with the restricted documents absent, present (written
in a random interleaving with the public ones, so database ids shift) and deleted again."""

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from quarry.corpus.db import Database
from quarry.corpus.entities import OfflineExtractor
from quarry.corpus.filters import Principal
from quarry.corpus.store import DocumentStore
from quarry.tools.bm25 import Bm25Search
from quarry.tools.config import Bm25Config, GraphConfig
from quarry.tools.kg import GraphSearch
from tests.support.helpers import chunks_of, make_document, unit_vectors

PUBLIC = Principal(groups=("public",))
NAMES = ["Dana Okafor", "Lee Okafor", "Okafor", "Ledgerline", "Ledgerlinz", "Payments Core", "Keel", "Beacon"]
VERBS = ["owns", "leads", "is owned by", "replaced", "and", "reports to"]
WORDS = ["settlement", "files", "failover", "lag", "invoices", "rack", "night", "audit"]
QUERIES = ["who leads the team that owns Ledgerline", "okafor", "Ledgerlin failover", "Keel settlement files"]

sentence = st.builds(
    lambda a, verb, b, words: f"{a} {verb} {b} {' '.join(words)}.",
    st.sampled_from(NAMES),
    st.sampled_from(VERBS),
    st.sampled_from(NAMES),
    st.lists(st.sampled_from(WORDS), max_size=4),
)
document = st.lists(sentence, min_size=1, max_size=3).map(" ".join)


def _write(store: DocumentStore, doc_id: str, text: str, group: str) -> None:
    meta = make_document(doc_id, text, access=[group])
    chunks = chunks_of(meta, max_tokens=16)
    extraction = OfflineExtractor().extract(meta.metadata.title, text, chunks)
    store.write(meta, chunks, unit_vectors(len(chunks), seed=len(text)), extraction)


def _wipe(db: Database) -> None:
    with db.transaction() as conn:
        conn.execute("DELETE FROM documents")
        conn.execute("DELETE FROM entities")  # fresh entity ids in the next order of writes


def _observe(bm25: Bm25Search, graph: GraphSearch) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    for query in QUERIES:
        seen[f"bm25 {query}"] = [
            (h.document_id, h.ordinal, h.score) for h in bm25.search(query, k=10, principal=PUBLIC)
        ]
        result = graph.search(query, k=10, principal=PUBLIC)
        nodes = graph.knowledge_graph().graph.nodes
        seen[f"kg {query}"] = [(h.document_id, h.ordinal, h.score, result.paths.get(h.chunk_id)) for h in result.hits]
        seen[f"linked {query}"] = [(e.surface, e.how, nodes[e.node]["key"]) for e in result.linked]
    return seen


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    public=st.lists(document, min_size=1, max_size=4),
    restricted=st.lists(document, min_size=1, max_size=3),
    order=st.randoms(use_true_random=False),
)
def test_public_results_ignore_restricted_documents(db, store, tmp_path_factory, public, restricted, order):
    bm25 = Bm25Search(db, Bm25Config(), tmp_path_factory.mktemp("bm25"))
    graph = GraphSearch(db, GraphConfig())
    docs = [(f"p{i}", text, "public") for i, text in enumerate(public)]
    _wipe(db)
    for doc in docs:
        _write(store, *doc)
    alone = _observe(bm25, graph)
    secret = [(f"s{i}", text, "finance") for i, text in enumerate(restricted)]
    mixed = list(docs)
    for doc in secret:  # anywhere; the public ones keep their order (chunk ids break score ties)
        mixed.insert(order.randint(0, len(mixed)), doc)
    _wipe(db)
    for doc in mixed:
        _write(store, *doc)
    assert _observe(bm25, graph) == alone
    for doc_id, _, _ in secret:
        store.delete(doc_id)
    assert _observe(bm25, graph) == alone
