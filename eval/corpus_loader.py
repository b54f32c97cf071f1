"""Puts an evaluation dataset's documents into a corpus of its own (a separate schema), so
evaluation never mixes with user data. Idempotent: unchanged documents are skipped on re-runs."""

import re
from collections.abc import Iterator

from corpus.ingest import IngestReport, Ingestor, ProgressCallback
from corpus.metadata import SourceDocument, validate_metadata
from eval.datasets import EvalDataset

_PUBLISHED = "2020-01-01T00:00:00Z"


def corpus_schema(name: str) -> str:
    """PostgreSQL schema for the named evaluation corpus, e.g. 'msmarco-5k' → 'eval_msmarco_5k'."""
    slug = re.sub(r"[^a-z0-9_]+", "_", name.lower()).strip("_") or "dataset"
    return f"eval_{slug}"[:63]


def dataset_documents(dataset: EvalDataset) -> Iterator[SourceDocument]:
    for document in dataset.documents:
        if not document.text.strip():
            continue
        title = document.title or " ".join(document.text.split()[:8])
        metadata = validate_metadata(
            document.id,
            {
                "id": document.id, "source": f"{dataset.name}:{document.id}", "title": title,
                "author": dataset.name, "domain": dataset.name, "published_at": _PUBLISHED, "access": ["public"],
            },
            where="the dataset record",
        )
        yield SourceDocument(id=document.id, label=f"{dataset.name}:{document.id}", text=document.text, metadata=metadata)


def ingest_dataset(ingestor: Ingestor, dataset: EvalDataset, progress: ProgressCallback | None = None) -> IngestReport:
    return ingestor.ingest_documents(dataset_documents(dataset), progress=progress)
