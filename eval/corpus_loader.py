"""Puts an evaluation dataset's documents into a corpus of its own (a separate schema), so
evaluation never mixes with user data. Idempotent: unchanged documents are skipped on re-runs.
A QA JSONL set brings no documents: it is paired with a folder of Quarry documents (`--documents`)."""

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from quarry.corpus.ingest import Ingestor, IngestReport, ProgressCallback
from quarry.corpus.loaders import LoadResult, Refusal, load_paths
from quarry.corpus.metadata import SourceDocument, validate_metadata
from quarry.errors import DatasetError
from quarry.eval.datasets import EvalDataset

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
                "id": document.id,
                "source": f"{dataset.name}:{document.id}",
                "title": title,
                "author": dataset.name,
                "domain": dataset.name,
                "published_at": _PUBLISHED,
                "access": ["public"],
            },
            where="the dataset record",
        )
        yield SourceDocument(
            id=document.id, label=f"{dataset.name}:{document.id}", text=document.text, metadata=metadata
        )


def ingest_dataset(ingestor: Ingestor, dataset: EvalDataset, progress: ProgressCallback | None = None) -> IngestReport:
    return ingestor.ingest_documents(dataset_documents(dataset), progress=progress)


@dataclass(frozen=True)
class DocumentsFolder:
    """A folder of Quarry-format documents given with `--documents`, for a QA set without its own corpus."""

    folder: Path
    results: list[LoadResult]
    aliases: dict[str, str]
    """Every name a gold source may use for a document → its id: the id itself, its metadata source,
    and for files the path relative to the folder and to the dataset file's folder."""

    def resolve(self, label: str) -> str | None:
        return self.aliases.get(_clean(label))

    @property
    def documents(self) -> list[SourceDocument]:
        return [r for r in self.results if isinstance(r, SourceDocument)]

    def refusals(self) -> list[Refusal]:
        return [r for r in self.results if isinstance(r, Refusal)]


def read_documents_folder(folder: Path, dataset_path: Path, *, max_bytes: int) -> DocumentsFolder:
    if not folder.is_dir():
        raise DatasetError(f"--documents '{folder}' is not a folder of documents")
    results = list(load_paths([folder], max_bytes=max_bytes))
    aliases: dict[str, str] = {}
    bases = (folder.resolve(), dataset_path.resolve().parent)
    for document in (r for r in results if isinstance(r, SourceDocument)):
        names = [document.id, document.metadata.source]
        source = Path(document.metadata.source)
        if source.is_absolute():
            names += [source.relative_to(base).as_posix() for base in bases if source.is_relative_to(base)]
        for name in names:
            aliases.setdefault(_clean(name), document.id)
    if not aliases:
        raise DatasetError(
            f"--documents '{folder}' holds no readable Quarry documents (.md, .txt or .jsonl with metadata)"
        )
    return DocumentsFolder(folder, results, aliases)


def sliced_folder(documents: DocumentsFolder, gold: set[str], max_documents: int) -> DocumentsFolder:
    """Like datasets.sliced for a documents folder: every gold document, then others up to `max_documents`."""
    kept = [d for d in documents.documents if d.id in gold]
    kept += [d for d in documents.documents if d.id not in gold][: max(0, max_documents - len(kept))]
    ids = {d.id for d in kept}
    return DocumentsFolder(
        documents.folder, [*kept, *documents.refusals()], {k: v for k, v in documents.aliases.items() if v in ids}
    )


def _clean(label: str) -> str:
    return label.strip().removeprefix("./")
