"""Settings sections owned by the tools layer."""

from pydantic import BaseModel, ConfigDict, Field, model_validator


class DenseConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    exact_scan_max_rows: int = Field(default=20_000, ge=0, le=10_000_000)
    """A filter estimated to leave at most this many chunks is searched exactly (no index)."""
    ef_search_min: int = Field(default=40, ge=1, le=1000)
    ef_search_max: int = Field(default=1000, ge=1, le=1000)
    """pgvector caps hnsw.ef_search at 1000; a filter that would need more is searched exactly."""
    oversample: float = Field(default=3.0, ge=1.0, le=100.0)
    """HNSW candidates per wanted hit, scaled by 1/selectivity so post-filtering keeps k rows."""

    @model_validator(mode="after")
    def _bounds(self) -> "DenseConfig":
        if self.ef_search_min > self.ef_search_max:
            raise ValueError(f"ef_search_min ({self.ef_search_min}) must not exceed ef_search_max ({self.ef_search_max})")
        return self


class RetrievalConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    default_k: int = Field(default=10, ge=1, le=1000)
    dense: DenseConfig = DenseConfig()
