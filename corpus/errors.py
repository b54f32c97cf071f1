"""The corpus layer's errors; they live in the one tree in quarry.errors (re-exported here)."""

from quarry.errors import (
    BlobError,
    CorpusError,
    DatabaseUnavailable,
    DocumentParseError,
    EmbeddingMismatch,
    EmbeddingModelError,
    FieldProblem,
    MetadataError,
    StorageError,
)

__all__ = [
    "BlobError",
    "CorpusError",
    "DatabaseUnavailable",
    "DocumentParseError",
    "EmbeddingMismatch",
    "EmbeddingModelError",
    "FieldProblem",
    "MetadataError",
    "StorageError",
]
