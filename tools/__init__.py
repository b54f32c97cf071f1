"""The capabilities graph nodes call: dense, BM25 and knowledge-graph retrieval, fusion, reranking,
packing, citation checking, the semantic cache and its guard, and the LLM clients (tools.llm).
Re-exported lazily."""

from quarry.corpus.exports import lazy_exports

_EXPORTS = {
    "Bm25Config": "quarry.tools.config",
    "DenseConfig": "quarry.tools.config",
    "FusedHit": "quarry.tools.fusion",
    "HybridRetriever": "quarry.tools.hybrid",
    "OfflineReranker": "quarry.tools.rerank",
    "PackedContext": "quarry.tools.packing",
    "Retrieval": "quarry.tools.hybrid",
    "Bm25Search": "quarry.tools.bm25",
    "GraphSearch": "quarry.tools.kg",
    "FusionConfig": "quarry.tools.config",
    "GraphConfig": "quarry.tools.config",
    "RerankConfig": "quarry.tools.config",
    "RetrievalConfig": "quarry.tools.config",
    "DenseResult": "quarry.tools.dense",
    "DenseSearch": "quarry.tools.dense",
    "SearchPlan": "quarry.tools.dense",
    "Hit": "quarry.tools.hits",
    "CitationCheck": "quarry.tools.citations",
    "check_citations": "quarry.tools.citations",
    "CacheConfig": "quarry.tools.config",
    "SemanticCache": "quarry.tools.cache",
    "CacheHit": "quarry.tools.cache",
    "same_question": "quarry.tools.cache_guard",
}

__all__ = sorted(_EXPORTS)

__getattr__ = lazy_exports(__name__, _EXPORTS)
