"""The ONNX embedding runtime against sentence-transformers: the same vectors, an export made once and
then loaded without torch, and clear errors when it cannot be used."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from pydantic import ValidationError

from quarry.corpus.config import EmbeddingConfig
from quarry.corpus.embed import LocalEmbeddings
from quarry.errors import EmbeddingModelError
from tests.support.cli_env import quarry_env

pytestmark = pytest.mark.model

REPO = Path(__file__).resolve().parents[2]
EDGE_CASES = [
    "",
    "   leading and trailing whitespace   ",
    "Ünïcödé naïve café 東京 🙂 — em dash; “quotes”",
    "UPPER CASE Ledgerline SETTLEMENT",
    "settlement " * 600,  # far beyond max_seq_length (256 tokens): both runtimes truncate alike
]


@pytest.fixture(scope="module")
def onnx_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A cache folder holding one fresh export of the packaged model."""
    cache = tmp_path_factory.mktemp("onnx")
    LocalEmbeddings(EmbeddingConfig(runtime="onnx"), onnx_cache_dir=cache).load()
    return cache


def test_onnx_vectors_equal_the_torch_vectors(onnx_cache: Path):
    texts = [path.read_text() for path in sorted((REPO / "examples" / "corpus").rglob("*.md"))] + EDGE_CASES
    assert len(texts) > 30
    torch_vectors = np.array(LocalEmbeddings(EmbeddingConfig(runtime="torch")).embed_documents(texts))
    onnx = LocalEmbeddings(EmbeddingConfig(runtime="onnx"), onnx_cache_dir=onnx_cache)
    onnx_vectors = np.array(onnx.embed_documents(texts))

    assert onnx_vectors.shape == torch_vectors.shape == (len(texts), 384)
    cosine = np.sum(onnx_vectors * torch_vectors, axis=1)
    assert cosine.min() >= 0.9999
    assert np.abs(onnx_vectors - torch_vectors).max() < 1e-4
    np.testing.assert_allclose(np.linalg.norm(onnx_vectors, axis=1), 1.0, atol=1e-5)
    # Batching and length-sorting keep each vector with its text.
    np.testing.assert_allclose(np.array(onnx.embed_query(texts[3])), onnx_vectors[3], atol=1e-5)


def test_a_process_finding_the_export_never_imports_torch_or_transformers(onnx_cache: Path):
    exports_before = sorted(p.name for p in onnx_cache.iterdir())
    probe = (
        "import json, sys\n"
        "from pathlib import Path\n"
        "from quarry.corpus.config import EmbeddingConfig\n"
        "from quarry.corpus.embed import LocalEmbeddings\n"
        f"e = LocalEmbeddings(EmbeddingConfig(), onnx_cache_dir=Path({str(onnx_cache)!r}))\n"
        "vector = e.embed_query('settlement outage')\n"
        "heavy = sorted(m for m in ('torch', 'transformers', 'sentence_transformers') if m in sys.modules)\n"
        "print(json.dumps({'dimension': len(vector), 'heavy': heavy}))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], env=quarry_env(), capture_output=True, text=True, timeout=300, check=True
    )
    assert json.loads(done.stdout) == {"dimension": 384, "heavy": []}
    assert sorted(p.name for p in onnx_cache.iterdir()) == exports_before  # reused, not exported again


def test_a_damaged_export_names_its_folder_and_the_fix(onnx_cache: Path, tmp_path: Path):
    (export,) = [p for p in onnx_cache.iterdir() if p.is_dir()]
    damaged = tmp_path / export.name
    shutil.copytree(export, damaged)
    (damaged / "model.onnx").write_bytes(b"not a model")
    with pytest.raises(EmbeddingModelError) as caught:
        LocalEmbeddings(EmbeddingConfig(), onnx_cache_dir=tmp_path).load()
    message = str(caught.value)
    assert f"cannot load the ONNX embedding model in {damaged}" in message
    assert "delete that folder to export it again, or set embedding.runtime: torch" in message


def test_a_model_that_is_not_a_local_folder_is_refused_for_onnx(tmp_path: Path):
    with pytest.raises(EmbeddingModelError, match="embedding runtime 'onnx' needs the model 'no/such-model'"):
        LocalEmbeddings(EmbeddingConfig(model="no/such-model"), onnx_cache_dir=tmp_path).load()


def test_onnx_on_a_gpu_is_a_configuration_error():
    with pytest.raises(ValidationError, match="runtime 'onnx' runs on the CPU; for device 'cuda' set runtime: torch"):
        EmbeddingConfig(device="cuda")
