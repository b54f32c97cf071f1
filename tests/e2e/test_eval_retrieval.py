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
        "eval",
        "retrieval",
        str(MSMARCO),
        "--limit",
        "3",
        "--max-documents",
        "150",
        "--out",
        str(out),
        "--no-peer",
        "--folds",
        "3",
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
    # The protocol table: one set, so fusion weights are chosen by k-fold only (no other set to leave out).
    suite = json.loads((out / "suite.json").read_text())
    (name,) = suite["sets"]
    systems = suite["sets"][name]["systems"]
    assert set(systems) == SYSTEMS | {"rrf_equal", "fusion_kfold"}
    assert systems["rrf_equal"]["config"] == "rrf k=60 dense=1 bm25=1 kg=0"
    assert [c["reported_queries"] for c in suite["sets"][name]["selections"]["fusion_kfold"]] == [1, 1, 1]
    cell = systems["dense"]["ndcg@10"]
    assert cell["ci95_low"] <= cell["mean"] <= cell["ci95_high"]
    assert f"| {name} | fusion_kfold | 3 |" in (out / "suite.md").read_text()


def test_unknown_dataset_format_is_a_clear_error(cli: Cli, tmp_path: Path):
    odd = tmp_path / "odd.jsonl"
    odd.write_text('{"foo": 1}\n')
    result = cli("eval", "retrieval", str(odd))
    assert result.returncode == 2
    assert "cannot tell the format of" in result.stderr and "Traceback" not in result.stderr


def _tiny_sets(root: Path) -> Path:
    """Two small synthetic sets in one folder: a BEIR set and a MuSiQue-style multi-hop file."""
    beir = root / "tiny-beir"
    (beir / "qrels").mkdir(parents=True)
    topics = ["volcano lava eruption", "glacier ice melt", "coral reef fish", "desert sand dune"]
    docs = [
        {"_id": f"d{i}", "title": t.split()[0], "text": f"A note on the {t} and its causes."}
        for i, t in enumerate(topics)
    ]
    (beir / "corpus.jsonl").write_text("\n".join(json.dumps(d) for d in docs))
    (beir / "queries.jsonl").write_text(
        "\n".join(json.dumps({"_id": f"q{i}", "text": t}) for i, t in enumerate(topics))
    )
    (beir / "qrels" / "test.tsv").write_text("".join(f"q{i}\td{i}\t1\n" for i in range(len(topics))))
    hop = root / "tiny-hop"
    hop.mkdir()
    people = [
        ("Ada Lovelace", "London"),
        ("Alan Turing", "Maida Vale"),
        ("Grace Hopper", "New York"),
        ("Kurt Goedel", "Brno"),
    ]
    records = []
    for i, (person, city) in enumerate(people):
        context = [
            [person, [f"{person} was born in {city}."]],
            [city, [f"{city} lies on a river and has a cathedral number {i}."]],
            [person, [f"{person} also liked music."]],
        ]
        records.append(
            {
                "_id": f"h{i}",
                "question": f"What river city was {person} born in?",
                "answer": city,
                "supporting_facts": [[person, 0], [city, 0]],
                "context": context,
                "supporting_context_idx": [0, 1],
            }
        )
    (hop / "questions.jsonl").write_text("\n".join(json.dumps(r) for r in records))
    return root


def test_a_folder_of_sets_gives_one_table_with_held_out_choices(cli: Cli, tmp_path: Path):
    out = tmp_path / "out"
    result = cli(
        "eval", "retrieval", str(_tiny_sets(tmp_path / "data")), "--folds", "2", "--out", str(out), "--no-peer"
    )
    assert result.returncode == 0, result.stderr
    suite = json.loads((out / "suite.json").read_text())
    assert list(suite["sets"]) == ["tiny-beir", "tiny-hop"], "sets are named after their folders"
    hop = suite["sets"]["tiny-hop"]
    assert hop["primary"] == "all_gold@10" and hop["documents"] == 12, "same title, different paragraph: kept apart"
    assert set(hop["systems"]) == SYSTEMS | {"rrf_equal", "fusion_kfold", "fusion_lodo"}
    assert hop["selections"]["fusion_lodo"][0]["chosen_on_sets"] == ["tiny-beir"]
    for cell in hop["systems"]["fusion_kfold"].values():
        if isinstance(cell, dict):
            assert 0.0 <= cell["ci95_low"] <= cell["mean"] <= cell["ci95_high"] <= 1.0
    # BM25 alone finds the unique topic words: the table holds the figure it measured.
    assert suite["sets"]["tiny-beir"]["systems"]["bm25"]["ndcg@10"]["mean"] == 1.0
    table = (out / "suite.md").read_text()
    assert "| tiny-hop | fusion_lodo | 4 |" in table and "both-gold@10" in table
