"""Settings sections owned by the tools layer."""

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, model_validator


class DenseConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    exact_scan_max_rows: int = Field(default=5_000, ge=0, le=10_000_000)
    """A filter estimated to leave at most this many chunks is searched exactly (no index)."""
    ef_search_min: int = Field(default=100, ge=1, le=1000)
    ef_search_max: int = Field(default=1000, ge=1, le=1000)
    """pgvector caps hnsw.ef_search at 1000; a filter that would need more is searched exactly."""
    oversample: float = Field(default=3.0, ge=1.0, le=100.0)
    """HNSW candidates per wanted hit, scaled by 1/selectivity so post-filtering keeps k rows."""

    @model_validator(mode="after")
    def _bounds(self) -> "DenseConfig":
        if self.ef_search_min > self.ef_search_max:
            raise ValueError(
                f"ef_search_min ({self.ef_search_min}) must not exceed ef_search_max ({self.ef_search_max})"
            )
        return self


class Bm25Config(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    k1: float = Field(default=1.5, gt=0, le=10)
    b: float = Field(default=0.75, ge=0, le=1)
    epsilon: float = Field(default=0.25, ge=0, le=1)
    stop_words: bool = True
    """Drop common English function words from documents and queries."""
    max_views: int = Field(default=16, ge=1, le=10_000)
    """Reader views whose statistics (IDF, average length) are kept, least recently used evicted;
    each costs about 8 bytes per term plus 8 per chunk."""


class GraphConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    max_depth: int = Field(default=2, ge=0, le=3, validation_alias=AliasChoices("max_depth", "max_hops"))
    """How many edges expansion walks from the entities named in the query. Not the research loop's
    hops (research.budget.max_hops); configs that still say `max_hops` here are read as this."""
    max_expansion: int = Field(default=20, ge=1, le=1000)
    """Bridge entities kept after expansion, strongest first."""
    fuzzy_threshold: float = Field(default=0.88, ge=0.5, le=1.0)
    max_views: int = Field(default=8, ge=1, le=1000)
    """Per-reader graph views kept in memory (one per set of readable access sets), least recently used
    evicted; each costs up to a copy of the graph's readable part."""
    max_relations_per_document: int = Field(default=5_000, ge=1, le=1_000_000)
    """Relations loaded into the graph per document (the first in chunk order): one document naming
    thousands of entities cannot make every process's graph huge."""


class FusionConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    k: int = Field(default=60, ge=1, le=10_000)
    """The RRF constant: score = sum(weight / (k + rank))."""
    dense_weight: float = Field(default=1.0, ge=0, le=100)
    bm25_weight: float = Field(default=1.0, ge=0, le=100)
    kg_weight: float = Field(default=0.25, ge=0, le=100)
    candidates_per_retriever: int = Field(default=50, ge=1, le=1000)


class RerankConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = True
    model: str = Field(default="offline", pattern=r"^(offline|claude)$")
    candidates: int = Field(default=50, ge=1, le=1000)
    cosine_weight: float = Field(default=0.7, ge=0, le=100)
    """Offline score = cosine(query, chunk) × this + query-term coverage × overlap_weight + fused prior × prior_weight."""
    overlap_weight: float = Field(default=0.1, ge=0, le=100)
    prior_weight: float = Field(default=0.2, ge=0, le=100)


class RetrievalConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    default_k: int = Field(default=10, ge=1, le=1000)
    dense: DenseConfig = DenseConfig()
    bm25: Bm25Config = Bm25Config()
    graph: GraphConfig = GraphConfig()
    fusion: FusionConfig = FusionConfig()
    rerank: RerankConfig = RerankConfig()


class CacheConfig(BaseModel):
    """The semantic cache (tools/cache.py): answers reused for the same question from the same scope."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = True
    threshold: float = Field(default=0.85, ge=0.5, le=1.0)
    """Cosine similarity of the two questions' embeddings at or above which the guard is consulted."""
    guard: bool = True
    """Also require the questions to agree on entities, numbers, dates, negation and direction."""
    stale_ok: bool = False
    """Serve answers built before the corpus last changed (faster, possibly out of date)."""
    ttl_seconds: float = Field(default=7 * 86_400, gt=0, le=10 * 365 * 86_400)
    """How long an answer may be served, in seconds (at most ten years)."""
    max_entries: int = Field(default=10_000, ge=1, le=10_000_000)
    """Beyond this, the least recently used entries are evicted."""
    candidates: int = Field(default=5, ge=1, le=100)
    """Nearest cached questions the guard looks at before calling it a miss."""
