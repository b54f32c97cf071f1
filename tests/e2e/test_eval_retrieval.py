"""`quarry eval retrieval` end to end on a slice of a shared BEIR set (skipped when absent)."""

import json
from pathlib import Path

import pytest

from tests.conftest import SHARED_DATA
from tests.e2e.conftest import Cli

MSMARCO = SHARED_DATA / "msmarco-5k"
SYSTEMS = {"dense", "bm25", "kg", "hybrid", "hybrid_rerank"}


@pytest.mark.skipif(not MSMARCO.exists(), reason="../shared/data/msmarco-5k is not present")
def test_retrieval_eval_on_a_slice_writes_reports(cli: Cli, tmp_path: Path):
    out = tmp_path / "out"
    result = cli(
        "eval", "retrieval", str(MSMARCO), "--limit", "3", "--max-documents", "150", "--out", str(out), "--no-peer"
    )
    assert result.returncode == 0, result.stderr
    report = json.loads((out / "msmarco-5k" / "retrieval.json").read_text())
    assert set(report) >= SYSTEMS
    for name in SYSTEMS:
        row = report[name]
        assert row["queries"] == 3
        assert 0.0 <= row["recall@10"] <= row["recall@20"] <= 1.0 and 0.0 <= row["ndcg@10"] <= 1.0
    from quarry.eval.datasets import load_dataset

    gold = {doc for query in load_dataset(MSMARCO, limit=3).queries for doc in query.relevant}
    assert report["_meta"]["documents"] == max(150, len(gold)), "all gold passages kept, then distractors up to 150"
    # Every gold document is in the slice, so dense retrieval over 150 passages must find some of them.
    assert report["dense"]["recall@20"] > 0
    per_query = report["_per_query"]["hybrid"]
    assert [row["query_id"] for row in per_query] == [row["query_id"] for row in report["_per_query"]["dense"]]
    table = (out / "msmarco-5k" / "retrieval.md").read_text()
    assert table.startswith("## Retrieval on msmarco-5k-") and "| hybrid_rerank |" in table


def test_unknown_dataset_format_is_a_clear_error(cli: Cli, tmp_path: Path):
    odd = tmp_path / "odd.jsonl"
    odd.write_text('{"foo": 1}\n')
    result = cli("eval", "retrieval", str(odd))
    assert result.returncode == 2
    assert "cannot tell the format of" in result.stderr and "Traceback" not in result.stderr
