import json
from pathlib import Path

import pytest

from quarry.errors import DatasetError
from quarry.eval.datasets import detect_format, load_dataset

SHARED = Path(__file__).resolve().parents[3] / "shared" / "data"


def write_beir(folder: Path) -> Path:
    (folder / "qrels").mkdir(parents=True)
    (folder / "corpus.jsonl").write_text(
        "\n".join(
            json.dumps(r)
            for r in [{"_id": "d1", "title": "A", "text": "alpha"}, {"_id": "d2", "title": "", "text": "beta"}]
        )
    )
    (folder / "queries.jsonl").write_text(
        json.dumps({"_id": "q1", "text": "alpha?"}) + "\n" + json.dumps({"_id": "q2", "text": "none"})
    )
    (folder / "qrels" / "test.tsv").write_text("query-id\tcorpus-id\tscore\nq1\td1\t2\nq1\td2\t0\n")
    return folder


def test_beir_folder(tmp_path: Path):
    data = load_dataset(write_beir(tmp_path / "tiny"))
    assert data.format == "beir" and [d.id for d in data.documents] == ["d1", "d2"]
    assert [(q.id, q.relevant) for q in data.queries] == [("q1", {"d1": 2})], (
        "zero-score qrels and unjudged queries drop"
    )


@pytest.mark.parametrize("context_shape", ["pairs", "dict"])
def test_hotpot_records_become_paragraph_documents(tmp_path: Path, context_shape: str):
    pairs = [["Ledgerline", ["Ledgerline is a service.", " It settles."]], ["Payments Core", ["A team."]]]
    context = (
        pairs if context_shape == "pairs" else {"title": [p[0] for p in pairs], "sentences": [p[1] for p in pairs]}
    )
    record = {
        "_id": "h1",
        "question": "Who owns Ledgerline?",
        "answer": "Payments Core",
        "supporting_facts": [["Ledgerline", 0], ["Payments Core", 0]],
        "context": context,
    }
    path = tmp_path / "hotpot.json"
    path.write_text(json.dumps([record]))
    data = load_dataset(path)
    assert data.format == "hotpotqa"
    assert [(d.id, d.text) for d in data.documents] == [
        ("t:Ledgerline", "Ledgerline is a service. It settles."),
        ("t:Payments Core", "A team."),
    ]
    [query] = data.queries
    assert (
        query.multi_hop
        and query.relevant == {"t:Ledgerline": 1, "t:Payments Core": 1}
        and query.answers == ("Payments Core",)
    )


def test_unknown_and_broken_datasets_are_clear_errors(tmp_path: Path):
    odd = tmp_path / "odd.jsonl"
    odd.write_text(json.dumps({"foo": 1}) + "\n")
    with pytest.raises(
        DatasetError, match=r"cannot tell the format of '.*odd.jsonl': its first record has keys \['foo'\]"
    ):
        detect_format(odd)
    with pytest.raises(DatasetError, match="does not exist"):
        detect_format(tmp_path / "missing")
    empty_dir = tmp_path / "folder"
    empty_dir.mkdir()
    with pytest.raises(DatasetError, match="is a folder but not a BEIR dataset"):
        detect_format(empty_dir)
    broken = write_beir(tmp_path / "broken")
    (broken / "qrels" / "test.tsv").write_text("q1 d1\n")
    with pytest.raises(DatasetError, match=r"test.tsv:1: expected 'query-id<TAB>corpus-id<TAB>score'"):
        load_dataset(broken)


@pytest.mark.skipif(not (SHARED / "msmarco-5k").exists(), reason="../shared/data/msmarco-5k not present")
def test_shared_msmarco_loads():
    data = load_dataset(SHARED / "msmarco-5k")
    assert len(data.documents) == 5000 and len(data.queries) == 21
    assert all(q.relevant and all(g > 0 for g in q.relevant.values()) for q in data.queries)
