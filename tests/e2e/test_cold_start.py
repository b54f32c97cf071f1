"""What a fresh `quarry search` process loads: the corpus, the retrievers and the ONNX embedder, but
neither torch nor the LLM clients nor the research graph, which made most of its cold start."""

import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.conftest import REPO, Cli

pytestmark = [pytest.mark.integration, pytest.mark.model]

HEAVY = ("torch", "transformers", "sentence_transformers", "anthropic", "langgraph")
PROBE = f"""
import sys
from quarry.agent.cli.main import main
code = main(["search", "who failed to publish settlement files?", "--json", "--k", "3"])
print(code, sorted(m for m in {HEAVY!r} if m in sys.modules))
"""


def test_a_search_imports_neither_torch_nor_the_llm_clients_nor_the_research_graph(cli: Cli):
    corpus = REPO / "examples" / "corpus" / "incidents"
    ingested = cli("ingest", str(corpus), "--quiet")  # exports the ONNX model if this machine has none yet
    assert ingested.returncode == 0, ingested.stderr
    searched = subprocess.run(
        [sys.executable, "-c", PROBE], env=cli.env, cwd=Path(cli.cwd), capture_output=True, text=True, timeout=300
    )
    assert searched.returncode == 0, searched.stderr
    assert '"title": "March 2024 settlement outage"' in searched.stdout
    assert searched.stdout.strip().splitlines()[-1] == "0 []"
