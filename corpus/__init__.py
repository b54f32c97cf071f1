"""The documents: metadata contract, loaders, chunking, embeddings, PostgreSQL storage, the blob
store for images and its reaper, ingestion.

Names are re-exported lazily so that importing one small module (e.g. `corpus.config`) does
not pull in psycopg or the embedding stack.
"""

from quarry.corpus.exports import lazy_exports

_EXPORTS = {
    "BlobError": "quarry.errors",
    "BlobStore": "quarry.corpus.blobs",
    "LocalBlobStore": "quarry.corpus.blobs",
    "ImageAsset": "quarry.corpus.images",
    "AssetIndex": "quarry.corpus.assets",
    "collect_garbage": "quarry.corpus.gc",
    "Chunk": "quarry.corpus.chunking",
    "chunk_text": "quarry.corpus.chunking",
    "ChunkingConfig": "quarry.corpus.config",
    "DatabaseConfig": "quarry.corpus.config",
    "EmbeddingConfig": "quarry.corpus.config",
    "IngestConfig": "quarry.corpus.config",
    "EntityConfig": "quarry.corpus.config",
    "EntityExtractor": "quarry.corpus.entities",
    "Extraction": "quarry.corpus.entities",
    "OfflineExtractor": "quarry.corpus.entities",
    "StorageConfig": "quarry.corpus.config",
    "Database": "quarry.corpus.db",
    "StorageError": "quarry.errors",
    "LocalEmbeddings": "quarry.corpus.embed",
    "CorpusError": "quarry.errors",
    "DatabaseUnavailable": "quarry.errors",
    "DocumentParseError": "quarry.errors",
    "EmbeddingMismatch": "quarry.errors",
    "EmbeddingModelError": "quarry.errors",
    "FieldProblem": "quarry.errors",
    "MetadataError": "quarry.errors",
    "Principal": "quarry.corpus.filters",
    "SearchFilters": "quarry.corpus.filters",
    "IngestEvent": "quarry.corpus.ingest",
    "IngestReport": "quarry.corpus.ingest",
    "Ingestor": "quarry.corpus.ingest",
    "Refusal": "quarry.corpus.loaders",
    "Skipped": "quarry.corpus.loaders",
    "load_paths": "quarry.corpus.loaders",
    "DocumentMetadata": "quarry.corpus.metadata",
    "SourceDocument": "quarry.corpus.metadata",
    "validate_metadata": "quarry.corpus.metadata",
    "DocumentStore": "quarry.corpus.store",
    "StoredChunk": "quarry.corpus.store",
    "StoredDocument": "quarry.corpus.store",
    "WriteOutcome": "quarry.corpus.store",
    "count_tokens": "quarry.corpus.tokens",
}

__all__ = sorted(_EXPORTS)

__getattr__ = lazy_exports(__name__, _EXPORTS)
