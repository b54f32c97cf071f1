"""Exporting a sentence-transformers model to ONNX, once per model, for the torch-free runtime.

The whole pipeline (transformer, pooling, normalisation, any dense layers) is traced into one graph
taking the tokenizer's tensors and returning the sentence embedding, so the runtime only tokenizes and
runs it. The export is checked against the torch model on probe sentences before it is kept, and
written under a temporary name then renamed, so concurrent exporters and crashes never leave a
half-written model where a reader looks.
"""

import json
import os
import shutil
import tempfile
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from quarry.errors import EmbeddingModelError

MODEL_FILE = "model.onnx"
MANIFEST_FILE = "manifest.json"
TOKENIZER_FILE = "tokenizer.json"
EXPORT_FORMAT = 1
"""Bumped when the exported layout changes, so older exports are rebuilt instead of misread."""
MIN_COSINE = 0.9999
PROBES = (
    "Which team owns the service that failed in the March 2024 settlement outage?",
    "ledgerline",
    "Ünïcödé naïve café 東京 🙂 — punctuation; (brackets) [1]",
    "word " * 400,  # longer than max_seq_length: checks truncation matches
)


def export(location: str, target: Path) -> None:
    """Export the model at `location` (a local sentence-transformers folder) to `target`, a folder that
    must not exist yet; it appears complete or not at all."""
    import torch
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(location, device="cpu").eval()
    tokenizer = getattr(model[0], "tokenizer", None)
    source = Path(location) / TOKENIZER_FILE
    if tokenizer is None or not source.is_file():
        raise EmbeddingModelError(
            f"cannot export embedding model {location} to ONNX: it has no {TOKENIZER_FILE} "
            "(set embedding.runtime: torch in config.yaml)"
        )
    names = [n for n in tokenizer.model_input_names if n in ("input_ids", "attention_mask", "token_type_ids")]
    sample = tokenizer(
        list(PROBES[:2]), padding=True, truncation=True, max_length=model.max_seq_length, return_tensors="pt"
    )

    class _Pipeline(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, *tensors: torch.Tensor) -> torch.Tensor:
            embedding: torch.Tensor = self.model(dict(zip(names, tensors)))["sentence_embedding"]
            return embedding

    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    try:
        # The TorchScript exporter (the dynamo one needs onnxscript) warns that it is the legacy path,
        # and tracing warns about shape-dependent branches that are fixed for this pipeline.
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch.onnx.export(
                _Pipeline(),
                tuple(sample[n] for n in names),
                str(staging / MODEL_FILE),
                input_names=names,
                output_names=["sentence_embedding"],
                dynamic_axes={**{n: {0: "batch", 1: "tokens"} for n in names}, "sentence_embedding": {0: "batch"}},
                opset_version=17,
                dynamo=False,
            )
        shutil.copyfile(source, staging / TOKENIZER_FILE)
        manifest = {
            "format": EXPORT_FORMAT,
            "source": location,
            "inputs": names,
            "max_seq_length": model.max_seq_length,
            "pad_token": tokenizer.pad_token,
            "pad_token_id": tokenizer.pad_token_id,
            "lowercase": bool(getattr(model[0], "do_lower_case", False)),
            "dimension": model.get_embedding_dimension(),
        }
        (staging / MANIFEST_FILE).write_text(json.dumps(manifest, indent=2))
        _check_against_torch(model, staging, location)
        try:
            os.replace(staging, target)
        except OSError:
            if not (target / MANIFEST_FILE).is_file():  # another process's export won the race: keep it
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _check_against_torch(model: Any, folder: Path, location: str) -> None:
    from quarry.corpus.onnx_embed import OnnxEncoder

    expected = model.encode(list(PROBES), normalize_embeddings=True, convert_to_numpy=True)
    actual = OnnxEncoder(folder).encode(list(PROBES), batch_size=len(PROBES))
    cosine = np.sum(expected * actual, axis=1) / (np.linalg.norm(expected, axis=1) * np.linalg.norm(actual, axis=1))
    if float(cosine.min()) < MIN_COSINE:
        raise EmbeddingModelError(
            f"the ONNX export of embedding model {location} disagrees with torch "
            f"(cosine {float(cosine.min()):.6f} < {MIN_COSINE}); set embedding.runtime: torch in config.yaml"
        )
