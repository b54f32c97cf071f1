"""HybridRetriever over real PostgreSQL and the real model: fusion, rerank, packing, access."""

from pathlib import Path

import pytest

from quarry.corpus.config import ChunkingConfig
from quarry.corpus.filters import Principal
from quarry.corpus.ingest import Ingestor
from quarry.tools.bm25 import Bm25Search
from quarry.tools.config import RetrievalConfig
from quarry.tools.dense import DenseSearch
from quarry.tools.hybrid import HybridRetriever
from quarry.tools.rerank import OfflineReranker

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def retriever(store, db, embedder, tmp_path: Path) -> HybridRetriever:
    report = Ingestor(store, embedder, ChunkingConfig()).ingest_paths([REPO / "examples" / "corpus"])
    assert report.refused == [] and report.ingested == 32
    config = RetrievalConfig()
    return HybridRetriever(
        embedder,
        DenseSearch(db, config.dense),
        Bm25Search(db, config.bm25, tmp_path / "bm25"),
        config,
        reranker=OfflineReranker(db, config.rerank),
    )


def titles(result) -> list[str]:
    return [f.hit.title for f in result.hits]


def test_hybrid_fuses_both_retrievers_and_reranks(retriever):
    result = retriever.retrieve("Which team owns Ledgerline?", principal=Principal(), k=5)
    assert len(result.hits) == 5 and set(result.by_retriever) == {"dense", "bm25"}
    assert "Payments Core team" in titles(result)[:2]
    assert all(f.ranks for f in result.hits)
    assert list(result.rerank_scores.values()) == sorted(result.rerank_scores.values(), reverse=True)
    assert {"embed", "dense", "bm25", "fuse", "rerank"} <= set(result.timings_ms)


def test_modes_use_one_retriever_each(retriever):
    for mode in ("dense", "bm25"):
        result = retriever.retrieve("Keel failover checklist", principal=Principal(), k=3, mode=mode, rerank=False)
        assert set(result.by_retriever) == {mode}
        assert all(set(f.ranks) == {mode} for f in result.hits)
    assert "Keel failover checklist" in titles(
        retriever.retrieve("Keel failover checklist", principal=Principal(), k=3, mode="bm25")
    )


def test_no_retriever_leaks_restricted_documents(retriever):
    query = "Vaultwright hardware security modules signing keys"
    public = retriever.retrieve(query, principal=Principal(groups=("public",)), k=10)
    assert "Key management review 2024" not in titles(public)
    assert all(h.title != "Key management review 2024" for hits in public.by_retriever.values() for h in hits)
    security = retriever.retrieve(query, principal=Principal(groups=("security",)), k=3)
    assert titles(security)[0] == "Key management review 2024"


def test_packing_fits_the_token_budget(retriever):
    result = retriever.retrieve("Beacon lag", principal=Principal(), k=8, token_budget=300)
    assert result.packed is not None and 0 < result.packed.tokens_used <= 300
    assert len(result.packed.items) + len(result.packed.dropped) == len(result.hits)
