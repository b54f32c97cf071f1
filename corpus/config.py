"""Settings sections owned by the corpus layer; agent.settings composes them into one model."""

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, model_validator


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DatabaseConfig(_Section):
    url: str | None = None
    """An external PostgreSQL (with pgvector) to use; unset means the embedded pgserver cluster."""
    schema_name: str = Field(default="quarry", pattern=r"^[a-z_][a-z0-9_]{0,62}$")
    """The PostgreSQL schema holding Quarry's tables."""
    pool_min: int = Field(default=1, ge=0, le=64)
    pool_max: int = Field(default=8, ge=1, le=256)
    connect_timeout_s: float = Field(default=10.0, gt=0, le=300)
    row_security: bool = False
    """Also enforce access in PostgreSQL: retrieval reads run as the role quarry_reader, which
    row-level security policies limit to the reader's groups (creating it needs CREATEROLE)."""

    @model_validator(mode="after")
    def _pool_bounds(self) -> "DatabaseConfig":
        if self.pool_min > self.pool_max:
            raise ValueError(f"pool_min ({self.pool_min}) must not exceed pool_max ({self.pool_max})")
        return self


class ChunkingConfig(_Section):
    max_tokens: int = Field(default=256, ge=16, le=8192)
    """Upper bound on a chunk's size in cl100k tokens."""
    overlap_tokens: int = Field(default=32, ge=0, le=4096)
    """Trailing sentences of one chunk repeated at the start of the next, up to this many tokens."""

    @model_validator(mode="after")
    def _overlap_below_size(self) -> "ChunkingConfig":
        if self.overlap_tokens >= self.max_tokens:
            raise ValueError(
                f"overlap_tokens ({self.overlap_tokens}) must be smaller than max_tokens ({self.max_tokens})"
            )
        return self


class EmbeddingConfig(_Section):
    model: str = "all-MiniLM-L6-v2"
    """A sentence-transformers model name or local path; the default is the packaged offline copy."""
    dimension: int = Field(default=384, ge=8, le=4096)
    """Vector size the model produces; checked against the model when it loads."""
    batch_size: int = Field(default=64, ge=1, le=4096)
    device: str = Field(default="cpu", pattern=r"^(cpu|cuda(:\d+)?|mps)$")
    runtime: str = Field(default="onnx", pattern=r"^(onnx|torch)$")
    """onnx: ONNX Runtime on the CPU, the model exported once from sentence-transformers into
    onnx_cache_dir (a process then starts without importing torch); torch: sentence-transformers itself."""
    onnx_cache_dir: Path | None = None
    """Where ONNX exports are kept, one folder per model; defaults to the user's cache directory."""

    @model_validator(mode="after")
    def _onnx_runs_on_cpu(self) -> "EmbeddingConfig":
        if self.runtime == "onnx" and self.device != "cpu":
            raise ValueError(f"runtime 'onnx' runs on the CPU; for device '{self.device}' set runtime: torch")
        return self


class IngestConfig(_Section):
    max_document_bytes: int = Field(default=10_000_000, ge=1_000, le=1_000_000_000)
    """Larger files are refused rather than read."""
    max_asset_bytes: int = Field(default=20_000_000, ge=1_000, le=1_000_000_000)
    """Larger images are refused (with their document)."""
    gc_grace_seconds: float = Field(default=3600.0, ge=0, le=365 * 86_400)
    """Unreferenced blobs younger than this are kept: an ingest may be about to commit a reference."""
    max_file_bytes: int = Field(default=200_000_000, ge=1_000, le=10_000_000_000)
    """Larger PDF and Word files are refused; their extracted text is capped by max_document_bytes."""
    max_pdf_pages: int = Field(default=10_000, ge=1, le=1_000_000)
    """PDFs with more pages are refused (pages are read and released one at a time: memory stays flat)."""


class StorageConfig(_Section):
    """Where the embedded database and the blob store (images) live."""

    data_dir: Path | None = None
    """Defaults to the user's data directory (e.g. ~/.local/share/quarry); QUARRY_DATA_DIR overrides."""
    blob_store: str = Field(default="local", pattern=r"^(local|s3)$")
    """local: files under <data_dir>/blobs; s3: an S3-compatible bucket (pip install -e '.[s3]')."""
    s3_bucket: str | None = None
    s3_prefix: str = "quarry-blobs"
    s3_endpoint_url: str | None = None
    """For MinIO, Ceph or a local test server; None = AWS (credentials from the usual AWS variables)."""

    @model_validator(mode="after")
    def _s3_needs_a_bucket(self) -> "StorageConfig":
        if self.blob_store == "s3" and not self.s3_bucket:
            raise ValueError("blob_store 's3' needs s3_bucket (the bucket's name)")
        return self


class EntityConfig(_Section):
    """The offline entity extractor that feeds the knowledge graph at ingestion."""

    extractor: str = Field(default="offline", pattern=r"^(offline|claude)$")
    gazetteer: tuple[str, ...] = ()
    """Extra entity names always recognised (product names, lower-case systems, acronyms)."""
    min_mentions: int = Field(default=1, ge=1, le=1000)
