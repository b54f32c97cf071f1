"""The honest protocol: deterministic folds, choices that never see the queries they report, intervals."""

import json
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from quarry.errors import DatasetError
from quarry.eval.datasets import EvalDataset, EvalQuery, dataset_name, discover_sets, load_dataset
from quarry.eval.protocol import best_config, bootstrap_ci, kfold, select_kfold, select_leave_one_out
from quarry.eval.suite import RRF_EQUAL, build_report, markdown, refuse, set_result
from quarry.tools.config import FusionConfig
from quarry.tools.hits import Hit

IDS = [f"q{i}" for i in range(23)]


def test_folds_are_disjoint_cover_all_and_depend_only_on_ids_and_seed():
    folds = kfold(IDS, 5, seed=7)
    assert sorted(q for fold in folds for q in fold) == sorted(IDS)
    assert [len(f) for f in folds] == [5, 5, 5, 4, 4]
    assert kfold(list(reversed(IDS)), 5, seed=7) == folds, "input order must not change the folds"
    assert kfold(IDS, 5, seed=8) != folds, "another seed, another split"


def test_folds_refuse_impossible_splits():
    with pytest.raises(DatasetError, match="cannot fill 5 folds"):
        kfold(IDS[:3], 5, seed=0)
    with pytest.raises(DatasetError, match="k >= 2"):
        kfold(IDS, 1, seed=0)


def test_kfold_never_reports_a_query_with_a_configuration_chosen_on_it():
    # Each query has an "oracle" configuration perfect on it alone; a leaky choice would pick it.
    table = {f"own-{q}": {p: float(p == q) for p in IDS} for q in IDS}
    table["steady"] = dict.fromkeys(IDS, 0.3)
    held = select_kfold(table, IDS, k=4, seed=1)
    assert set(held.scores) == set(IDS)
    assert all(held.chosen[q] == "steady" and held.scores[q] == 0.3 for q in IDS)
    # And in general: each query's configuration is the best one on the other folds only.
    rng = np.random.default_rng(3)
    noisy = {f"c{i}": {q: float(rng.random()) for q in IDS} for i in range(6)}
    held = select_kfold(noisy, IDS, k=4, seed=2)
    for fold in kfold(IDS, 4, seed=2):
        train = [q for q in IDS if q not in fold]
        assert {held.chosen[q] for q in fold} == {best_config(noisy, train)}
        assert all(held.scores[q] == noisy[held.chosen[q]][q] for q in fold)
    assert [c["reported_queries"] for c in held.choices] == [len(f) for f in kfold(IDS, 4, seed=2)]


def test_leave_one_dataset_out_chooses_on_the_other_sets():
    tables = {
        "a": {"x": {"a1": 1.0, "a2": 1.0}, "y": {"a1": 0.0, "a2": 0.0}},
        "b": {"x": {"b1": 0.1}, "y": {"b1": 0.9}},
        "c": {"x": {"c1": 0.2}, "y": {"c1": 0.6}},
    }
    held = select_leave_one_out(tables, "a")
    assert held.chosen == {"a1": "y", "a2": "y"} and held.scores == {"a1": 0.0, "a2": 0.0}
    assert held.choices == [{"chosen_on_sets": ["b", "c"], "reported_set": "a", "config": "y"}]
    with pytest.raises(DatasetError, match="second set"):
        select_leave_one_out({"a": tables["a"]}, "a")


def test_bootstrap_interval():
    assert bootstrap_ci([0.5] * 10) == (0.5, 0.5, 0.5)
    values = list(np.random.default_rng(0).random(400))
    mean, low, high = bootstrap_ci(values, seed=4)
    assert bootstrap_ci(values, seed=4) == (mean, low, high), "same seed, same interval"
    assert low < mean < high
    normal = 1.96 * float(np.std(values, ddof=1)) / np.sqrt(len(values))
    assert (high - low) / 2 == pytest.approx(normal, rel=0.15)
    assert bootstrap_ci([]) == (0.0, 0.0, 0.0)


def test_musique_gold_is_found_by_position_not_by_title(tmp_path: Path):
    folder = tmp_path / "musique"
    folder.mkdir()
    record = {
        "_id": "m1",
        "question": "Where is the seat?",
        "answer": "Stanley",
        "supporting_facts": [["Mountrail County", 0], ["Courthouse", 0]],
        "context": [
            ["Mountrail County", ["A distractor with the gold title."]],
            ["Mountrail County", ["The gold."]],
            ["Courthouse", ["It is in Stanley."]],
        ],
        "supporting_context_idx": [1, 2],
    }
    (folder / "questions.jsonl").write_text(json.dumps(record) + "\n")
    data = load_dataset(folder)
    assert data.name == "musique" and dataset_name(folder / "questions.jsonl") == "musique"
    by_id = {d.id: d.text for d in data.documents}
    assert len(by_id) == 3, "same title, different paragraph: two documents"
    assert sorted(by_id[g] for g in data.queries[0].relevant) == ["It is in Stanley.", "The gold."]
    (folder / "questions.jsonl").write_text(json.dumps({**record, "supporting_context_idx": [5]}) + "\n")
    with pytest.raises(DatasetError, match="supporting_context_idx"):
        load_dataset(folder)


def test_discover_sets_passes_over_folders_that_are_not_sets(tmp_path: Path):
    (tmp_path / "pdfs").mkdir()
    (tmp_path / "pdfs" / "files.json").write_text('{"a": 1}')
    hop = tmp_path / "hop"
    hop.mkdir()
    (hop / "questions.jsonl").write_text(
        json.dumps(
            {"_id": "1", "question": "q?", "answer": "a", "supporting_facts": [["T", 0]], "context": [["T", ["x"]]]}
        )
    )
    assert discover_sets(tmp_path) == [hop]
    assert discover_sets(hop) == [hop]
    with pytest.raises(DatasetError, match="neither a retrieval set"):
        discover_sets(tmp_path / "pdfs")


def _hit(chunk: int, document: str) -> Hit:
    moment = datetime(2020, 1, 1, tzinfo=UTC)
    return Hit(chunk, document, 0, document, document, "a", "d", moment, 0, 1, document, 1.0)


def _set(name: str, n: int) -> tuple[EvalDataset, dict[str, dict[str, list[Hit]]]]:
    """Dense ranks the gold document second, BM25 ranks it fourth: weights matter."""
    queries = [EvalQuery(f"{name}{i}", f"question {name}{i}", {f"g{i}": 1}) for i in range(n)]
    candidates = {
        q.text: {
            "dense": [_hit(100, "x"), _hit(i, f"g{i}"), _hit(101, "y")],
            "bm25": [_hit(101, "y"), _hit(102, "z"), _hit(103, "w"), _hit(i, f"g{i}")],
        }
        for i, q in enumerate(queries)
    }
    return EvalDataset(name, "beir", [], queries), candidates


def test_report_names_the_configuration_behind_every_figure():
    results = []
    for name in ("alpha", "beta"):
        dataset, candidates = _set(name, 10)
        live = {
            "dense": [
                {"query_id": q.id, "ndcg@10": 0.5, "recall@2": 1.0, "recall@5": 1.0, "all_gold@10": 1.0}
                for q in dataset.queries
            ]
        }
        results.append(set_result(dataset, live, candidates, FusionConfig()))
    rrf = refuse(*_set("alpha", 1), RRF_EQUAL)
    # Equal weights: y (dense 3, bm25 1) edges out the gold (dense 2, bm25 4), which beats x (dense 1).
    assert rrf["alpha0"]["ndcg@10"] == pytest.approx(1 / np.log2(3))
    report = build_report(results, folds=5, seed=0)
    systems = report["sets"]["alpha"]["systems"]
    assert set(systems) == {"dense", "rrf_equal", "fusion_kfold", "fusion_lodo"}
    assert systems["rrf_equal"]["config"] == "rrf k=60 dense=1 bm25=1 kg=0"
    assert systems["fusion_kfold"]["config"].startswith("rrf k=60 dense=2 bm25=0.5")
    assert systems["fusion_kfold"]["ndcg@10"]["mean"] == 1.0, "dense-heavy fusion puts the gold first"
    assert report["sets"]["alpha"]["selections"]["fusion_lodo"][0]["chosen_on_sets"] == ["beta"]
    assert "all_gold@10" not in systems["dense"], "single-gold sets report no both-gold column"
    assert report["sets"]["alpha"]["paired"] == {}, "no hybrid_rerank, nothing to pair"
    table = markdown(report)
    assert "| alpha | rrf_equal | 10 | 0.631 [0.631, 0.631] |" in table and "| beta | fusion_lodo |" in table


def test_paired_differences_are_per_query():
    dataset, candidates = _set("alpha", 4)
    rows = [
        {"query_id": q.id, "ndcg@10": 0.5, "recall@2": 0.0, "recall@5": 0.0, "all_gold@10": 0.0}
        for q in dataset.queries
    ]
    better = [{**r, "ndcg@10": 0.75} for r in rows]
    result = set_result(dataset, {"dense": rows, "hybrid_rerank": better}, candidates, FusionConfig())
    paired = build_report([result], folds=2, seed=0)["sets"]["alpha"]["paired"]
    assert paired["hybrid_rerank - dense"] == {"mean": 0.25, "ci95_low": 0.25, "ci95_high": 0.25}
    assert "hybrid_rerank - rrf_equal" in paired and "hybrid_rerank - fusion_kfold" in paired
