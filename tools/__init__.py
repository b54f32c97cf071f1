"""The capabilities graph nodes call: dense, BM25 and knowledge-graph retrieval, fusion, reranking,
packing, citation checking, the semantic cache and its guard, and the LLM clients (tools.llm).
Re-exported lazily."""

from corpus.exports import lazy_exports

_EXPORTS = {
    "Bm25Config": "tools.config",
    "DenseConfig": "tools.config",
    "FusedHit": "tools.fusion",
    "HybridRetriever": "tools.hybrid",
    "OfflineReranker": "tools.rerank",
    "PackedContext": "tools.packing",
    "Retrieval": "tools.hybrid",
    "Bm25Search": "tools.bm25",
    "GraphSearch": "tools.kg",
    "FusionConfig": "tools.config",
    "GraphConfig": "tools.config",
    "RerankConfig": "tools.config",
    "RetrievalConfig": "tools.config",
    "DenseResult": "tools.dense",
    "DenseSearch": "tools.dense",
    "SearchPlan": "tools.dense",
    "Hit": "tools.hits",
    "CitationCheck": "tools.citations",
    "check_citations": "tools.citations",
    "CacheConfig": "tools.config",
    "SemanticCache": "tools.cache",
    "CacheHit": "tools.cache",
    "same_question": "tools.cache_guard",
}

__all__ = sorted(_EXPORTS)

__getattr__ = lazy_exports(__name__, _EXPORTS)
