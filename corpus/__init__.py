"""The documents: metadata contract, loaders, chunking, embeddings, PostgreSQL storage, the blob
store for images and its reaper, ingestion.

Names are re-exported lazily so that importing one small module (e.g. `corpus.config`) does
not pull in psycopg or the embedding stack.
"""

from corpus.exports import lazy_exports

_EXPORTS = {
    "BlobError": "corpus.blobs",
    "BlobStore": "corpus.blobs",
    "LocalBlobStore": "corpus.blobs",
    "ImageAsset": "corpus.images",
    "AssetIndex": "corpus.assets",
    "collect_garbage": "corpus.gc",
    "Chunk": "corpus.chunking",
    "chunk_text": "corpus.chunking",
    "ChunkingConfig": "corpus.config",
    "DatabaseConfig": "corpus.config",
    "EmbeddingConfig": "corpus.config",
    "IngestConfig": "corpus.config",
    "EntityConfig": "corpus.config",
    "EntityExtractor": "corpus.entities",
    "Extraction": "corpus.entities",
    "OfflineExtractor": "corpus.entities",
    "StorageConfig": "corpus.config",
    "Database": "corpus.db",
    "StorageError": "corpus.db",
    "LocalEmbeddings": "corpus.embed",
    "CorpusError": "corpus.errors",
    "DatabaseUnavailable": "corpus.errors",
    "DocumentParseError": "corpus.errors",
    "EmbeddingMismatch": "corpus.errors",
    "EmbeddingModelError": "corpus.errors",
    "FieldProblem": "corpus.errors",
    "MetadataError": "corpus.errors",
    "Principal": "corpus.filters",
    "SearchFilters": "corpus.filters",
    "IngestEvent": "corpus.ingest",
    "IngestReport": "corpus.ingest",
    "Ingestor": "corpus.ingest",
    "Refusal": "corpus.loaders",
    "Skipped": "corpus.loaders",
    "load_paths": "corpus.loaders",
    "DocumentMetadata": "corpus.metadata",
    "SourceDocument": "corpus.metadata",
    "validate_metadata": "corpus.metadata",
    "DocumentStore": "corpus.store",
    "StoredChunk": "corpus.store",
    "StoredDocument": "corpus.store",
    "WriteOutcome": "corpus.store",
    "count_tokens": "corpus.tokens",
}

__all__ = sorted(_EXPORTS)

__getattr__ = lazy_exports(__name__, _EXPORTS)
