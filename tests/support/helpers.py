"""Builders for settings, documents and vectors used by the integration tests."""

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from quarry.agent.settings import Settings, load_settings
from quarry.corpus.chunking import Chunk, chunk_text
from quarry.corpus.config import ChunkingConfig
from quarry.corpus.metadata import SourceDocument, validate_metadata
from quarry.graph.answer import Answer
from quarry.graph.budget.limits import Limits


def isolated_settings(
    database_url: str, data_dir: Path, *, schema: str | None = None, overrides: Mapping[str, Any] | None = None
) -> Settings:
    """Settings for one test: this database, data dir and schema (None: the default schema), plus
    `overrides` (dotted keys); nothing read from config.yaml or the environment."""
    where = {"database.url": database_url, "storage.data_dir": str(data_dir)}
    if schema is not None:
        where["database.schema_name"] = schema
    return load_settings(Path(os.devnull), overrides={**where, **(overrides or {})}, environ={})


def make_document(doc_id: str, text: str, **meta) -> SourceDocument:
    raw = {
        "id": doc_id,
        "source": f"/corpus/{doc_id}.md",
        "title": f"Title {doc_id}",
        "author": "Priya Raman",
        "domain": "engineering",
        "published_at": "2024-03-12T09:00:00Z",
        "access": ["public"],
        **meta,
    }
    return SourceDocument(
        id=doc_id, label=f"{doc_id}.md", text=text, metadata=validate_metadata(doc_id, raw, where="test")
    )


def chunks_of(document: SourceDocument, max_tokens: int = 32) -> list[Chunk]:
    return chunk_text(document.text, ChunkingConfig(max_tokens=max_tokens, overlap_tokens=0))


def unit_vectors(count: int, seed: int, dim: int = 384) -> np.ndarray:
    vectors = np.random.default_rng(seed).normal(size=(count, dim)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def assert_within_limits(answer: Answer, limits: Limits) -> None:
    """The budget's promise for one run: every ceiling held, an answer given, partial exactly when a
    limit stopped it."""
    assert answer.spend.usd <= limits.max_usd + 1e-12
    assert answer.spend.tokens <= limits.max_tokens
    assert 0 <= answer.hops <= limits.max_hops
    assert answer.text
    assert answer.partial == (answer.stopped_by is not None)
    assert answer.stopped_by in (None, "deadline", "hops", "tokens", "cost")
