"""Non-interference (issue 20, M1 and L1): nothing a public reader can observe changes when documents
they cannot read are added or removed.

Design: the bundled corpus without its restricted/ folder is the public corpus. Three databases
ingest it through the real ingest path: `alone` (public only), `after` (public, then the restricted
documents) and `first` (the restricted documents, then public). The restricted set is the bundled
one plus documents written to interfere: the public corpus's words repeated (BM25's IDF, N and
average length), a namesake "Lee Okafor" and an entity called "Okafor" (the public alias "okafor"),
near-spellings of "Ledgerline" (fuzzy linking), and named relations on public pairs (edge labels,
graph paths). A public reader then observes, for every query, what `quarry search --json` prints in
each mode (dense, bm25, kg, hybrid, hybrid without rerank: hits, order, scores, retriever_scores,
graph paths) plus the entities the graph linked, and the offline model's research answer (text,
citations, hops, spend in tokens, trace nodes and hits). Then the restricted documents are deleted
and the reader looks again.

`alone` and `after` must agree exactly. `first` must agree on everything but surrogate ids: chunk
ids are a database sequence, so documents written earlier shift them (a known residual: an id's
value says how many chunks were written before it; the README states it).
"""

import asyncio
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from quarry.agent.components import Components
from quarry.agent.hit_records import hit_record
from quarry.corpus.filters import Principal
from quarry.corpus.store import DocumentStore
from quarry.graph.budget.limits import Limits
from quarry.graph.engine import ResearchRequest
from tests.conftest import REPO
from tests.support.helpers import isolated_settings

pytestmark = pytest.mark.slow

PUBLIC = Principal(groups=("public",))
QUERIES = (
    "Who leads the team that owns Ledgerline?",
    "what does okafor lead",
    "Ledgerlin settlement files",
    "Keel failover checklist",
    "certificate rotation for Harbor Gate",
    "Beacon lag after the Redpanda migration",
)
QUESTIONS = ("Who leads the team that owns the service that failed in the March 2024 settlement outage?",)
MODES = (("dense", True), ("bm25", True), ("kg", True), ("hybrid", True), ("hybrid", False))
HOSTILE = {
    "vendor-memo.md": (
        "finance",
        "Ledgerlinz and Ledgerliny replaced Ledgerlinx. Lee Okafor reviewed Ledgerline for Payments Core. "
        "Ledgerline settlement files, invoices, Keel failover, Beacon lag, certificate rotation, Harbor Gate.",
    ),
    "board.md": (
        "leadership",
        "Okafor chairs the board. Dana Okafor reports to Eleanor Voss. Payments Core is led by Tomas Lindqvist. "
        "Ledgerline is acquired by Tidewater. Keel Keel Keel failover failover settlement settlement.",
    ),
}


def _write_restricted(root: Path) -> Path:
    restricted = root / "restricted"
    shutil.copytree(REPO / "examples" / "corpus" / "restricted", restricted)
    for name, (group, text) in HOSTILE.items():
        (restricted / name).write_text(
            f"---\ntitle: {name[:-3]}\nauthor: Eleanor Voss\ndomain: leadership\n"
            f"published_at: 2024-06-01T09:00:00Z\naccess: [{group}]\n---\n{text}\n"
        )
    return restricted


@pytest.fixture(scope="module")
def corpora(pg_url: str, embedder, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Components]]:
    root = tmp_path_factory.mktemp("ni")
    public = root / "public"
    shutil.copytree(REPO / "examples" / "corpus", public, ignore=shutil.ignore_patterns("restricted"))
    restricted = _write_restricted(root)
    orders = {"alone": [public], "after": [public, restricted], "first": [restricted, public]}
    built: dict[str, Components] = {}
    try:
        for name, roots in orders.items():
            settings = isolated_settings(
                pg_url, root / name, schema=f"n_{uuid.uuid4().hex[:12]}", overrides={"cache.enabled": False}
            )
            built[name] = components = Components(settings, environ={}, embedder=embedder)
            for where in roots:
                report = components.ingestor.ingest_paths([where])
                assert report.refused == []
        yield built
    finally:
        for components in built.values():
            components.db.drop_schema()
            components.close()


def observe(components: Components) -> dict[str, Any]:
    """Everything a public reader sees through the real search paths and the research loop."""
    seen: dict[str, Any] = {}
    for query in QUERIES:
        for mode, rerank in MODES:
            result = components.retriever.retrieve(query, principal=PUBLIC, mode=mode, rerank=rerank)
            seen[f"{mode}{'' if rerank else '-norerank'}: {query}"] = [
                hit_record(fused, result) for fused in result.hits
            ]
        linked = components.graph.search(query, k=10, principal=PUBLIC).linked
        seen[f"linked: {query}"] = [
            (e.surface, e.how, components.graph.knowledge_graph().graph.nodes[e.node]["key"]) for e in linked
        ]
    for question in QUESTIONS:
        run = asyncio.run(
            components.engine.run(
                ResearchRequest(question=question, principal=PUBLIC, budget=Limits(max_seconds=600), use_cache=False)
            )
        )
        answer = run.answer.dump()
        for volatile in ("run_id", "elapsed_s"):
            answer.pop(volatile)
        answer["spend"] = run.answer.spend.total().tokens
        seen[f"answer: {question}"] = answer
        seen[f"trace: {question}"] = [
            (
                span.node,
                span.outcome,
                span.inputs,
                [(h.document_id, h.title, h.score, dict(h.ranks)) for h in span.hits],
            )
            for span in run.trace
        ]
    return seen


def _without_ids(seen: Any) -> Any:
    """`seen` without chunk ids (database sequence values), anywhere in it."""
    if isinstance(seen, dict):
        return {k: _without_ids(v) for k, v in seen.items() if k != "chunk_id"}
    if isinstance(seen, list | tuple):
        return [_without_ids(v) for v in seen]
    return seen


def _delete_restricted(components: Components) -> None:
    with components.db.transaction() as conn:
        rows = conn.execute("SELECT id FROM documents WHERE NOT access && '{public}'::text[]").fetchall()
    store = DocumentStore(components.db)
    assert len(rows) == 6 and all(store.delete(row["id"]) for row in rows)


def _diff(expected: dict[str, Any], got: dict[str, Any]) -> list[str]:
    return [key for key in expected if expected[key] != got.get(key)]


def test_public_reader_sees_the_same_with_and_without_restricted_documents(corpora):
    insider = Principal(groups=("public", "finance", "leadership"))
    hits = corpora["after"].retriever.retrieve("Ledgerlinz Lee Okafor", principal=insider, mode="bm25").hits
    assert any(f.hit.source.endswith("vendor-memo.md") for f in hits), "the restricted documents are there"
    alone = observe(corpora["alone"])
    assert any(alone[f"kg: {q}"] for q in QUERIES), "the graph retriever found something to compare"
    assert ("okafor", "alias", "dana okafor") in alone["linked: what does okafor lead"]
    assert _diff(alone, observe(corpora["after"])) == []
    assert _diff(_without_ids(alone), _without_ids(observe(corpora["first"]))) == []
    for name in ("after", "first"):
        _delete_restricted(corpora[name])
    assert _diff(alone, observe(corpora["after"])) == []
    assert _diff(_without_ids(alone), _without_ids(observe(corpora["first"]))) == []
