"""Sentence embeddings with ONNX Runtime and the `tokenizers` library: no torch, no transformers.

Importing torch and sentence-transformers costs seconds per process; this runtime loads in well under
one. It runs the graph `corpus/onnx_export.py` wrote, tokenizing exactly as sentence-transformers
does (whitespace stripped, optional lower-casing, truncation to the model's max_seq_length, padding
to the longest text of the batch).
"""

import json
from pathlib import Path

import numpy as np
import numpy.typing as npt

from quarry.corpus.onnx_export import EXPORT_FORMAT, MANIFEST_FILE, MODEL_FILE, TOKENIZER_FILE
from quarry.errors import EmbeddingModelError


class OnnxEncoder:
    """One exported model folder, ready to encode."""

    def __init__(self, folder: Path) -> None:
        import onnxruntime
        from tokenizers import Tokenizer

        try:
            manifest = json.loads((folder / MANIFEST_FILE).read_text())
            if manifest.get("format") != EXPORT_FORMAT:
                raise ValueError(f"export format {manifest.get('format')}, expected {EXPORT_FORMAT}")
            tokenizer = Tokenizer.from_file(str(folder / TOKENIZER_FILE))
            options = onnxruntime.SessionOptions()
            options.log_severity_level = 3  # warnings about unused initialisers are not the user's business
            self._session = onnxruntime.InferenceSession(
                str(folder / MODEL_FILE), options, providers=["CPUExecutionProvider"]
            )
        except Exception as exc:  # OSError, JSON errors, ONNX Runtime's own exceptions
            raise EmbeddingModelError(
                f"cannot load the ONNX embedding model in {folder}: {exc} "
                "(delete that folder to export it again, or set embedding.runtime: torch)"
            ) from exc
        tokenizer.no_padding()
        tokenizer.enable_truncation(max_length=int(manifest["max_seq_length"]))
        tokenizer.enable_padding(pad_id=int(manifest["pad_token_id"]), pad_token=str(manifest["pad_token"]))
        self._tokenizer = tokenizer
        self._inputs: list[str] = list(manifest["inputs"])
        self._lowercase = bool(manifest["lowercase"])
        self.dimension = int(manifest["dimension"])

    def encode(self, texts: list[str], *, batch_size: int) -> npt.NDArray[np.float32]:
        """Unit-length embeddings, one row per text, in the order given."""
        prepared = [text.strip().lower() if self._lowercase else text.strip() for text in texts]
        # Longest first, as sentence-transformers batches: texts of similar length pad each other least.
        order = sorted(range(len(prepared)), key=lambda i: -len(prepared[i]))
        out = np.empty((len(prepared), self.dimension), dtype=np.float32)
        for start in range(0, len(order), batch_size):
            rows = order[start : start + batch_size]
            encodings = self._tokenizer.encode_batch([prepared[i] for i in rows])
            tensors = {
                "input_ids": np.array([e.ids for e in encodings], dtype=np.int64),
                "attention_mask": np.array([e.attention_mask for e in encodings], dtype=np.int64),
                "token_type_ids": np.array([e.type_ids for e in encodings], dtype=np.int64),
            }
            (vectors,) = self._session.run(None, {name: tensors[name] for name in self._inputs})
            norms = np.linalg.norm(vectors, axis=1, keepdims=True)
            out[rows] = vectors / np.maximum(norms, 1e-12)
        return out
