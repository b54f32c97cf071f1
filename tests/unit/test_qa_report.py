"""The qa report aggregates rows as stated: undefined metrics are left out, not counted as 0; a torn
last line of answers.jsonl is dropped on resume, a malformed one elsewhere is an error."""

import json
from pathlib import Path

import pytest

from quarry.errors import DatasetError
from quarry.eval.qa_report import RunInfo, markdown_report, summarize
from quarry.eval.qa_rows import QaRow, open_for_append, read_rows

INFO = RunInfo(
    dataset="tiny",
    path="/x/tiny.jsonl",
    format="qa-jsonl",
    fingerprint="f",
    corpus="eval_tiny",
    documents=3,
    limits={"max_usd": 0.25, "max_tokens": 1000, "max_hops": 3, "max_seconds": 10.0},
)


def row(id: str, **values) -> QaRow:
    base = dict(
        id=id,
        question=f"{id}?",
        gold_answers=["x"],
        gold_sources=["d1"],
        answer="x",
        citations=["d1"],
        evidence_sources=["d1"],
        partial=False,
        stopped_by=None,
        hops=1,
        usd=0.0,
        input_tokens=100,
        output_tokens=10,
        latency_s=1.0,
        em=1.0,
        f1=1.0,
        contains=1.0,
        evidence_recall=1.0,
        citation_precision=1.0,
        budget_violations={"usd": False, "tokens": False, "hops": False, "seconds": False},
        cache_hit=False,
        run_id=id,
        spend_by_node={"synthesize": {"input_tokens": 100, "output_tokens": 10, "usd": 0.0, "calls": 1}},
    )
    return QaRow(**{**base, **values})


def test_summary_excludes_undefined_values_and_counts_stops_and_violations():
    rows = [
        row("a"),
        row(
            "b",
            em=0.0,
            f1=0.5,
            contains=0.0,
            evidence_recall=0.5,
            citation_precision=None,
            citations=[],
            latency_s=3.0,
            partial=True,
            stopped_by="hops",
            hops=3,
            input_tokens=300,
            output_tokens=30,
        ),
        row(
            "c",
            gold_answers=[],
            em=None,
            f1=None,
            contains=None,
            evidence_recall=0.0,
            citation_precision=0.0,
            latency_s=2.0,
            budget_violations={"usd": False, "tokens": True, "hops": False, "seconds": False},
            cache_hit=True,
        ),
    ]
    summary = summarize(rows, INFO)
    assert summary["answer"]["exact_match"] == {"mean": 0.5, "ci95": pytest.approx(1.96 * (0.5 / 2) ** 0.5), "n": 2}
    assert summary["answer"]["f1"]["mean"] == 0.75 and summary["answer"]["contains"]["n"] == 2
    assert summary["evidence"]["kept_recall"]["mean"] == 0.5 and summary["evidence"]["kept_recall"]["n"] == 3
    assert (
        summary["evidence"]["citation_precision"]["mean"] == 0.5 and summary["evidence"]["citation_precision"]["n"] == 2
    )
    budget = summary["budget"]
    assert (
        budget["violations"] == {"usd": 0, "tokens": 1, "hops": 0, "seconds": 0}
        and budget["questions_with_violations"] == 1
    )
    assert budget["partial"] == 1 and budget["partial_rate"] == pytest.approx(1 / 3)
    assert budget["stopped_by"] == {"complete": 2, "hops": 1}
    assert summary["latency_s"]["p50"] == 2.0 and summary["latency_s"]["p95"] == pytest.approx(2.9)
    assert summary["tokens"] == {"mean": pytest.approx(550 / 3), "total": 550, "input_total": 500, "output_total": 50}
    assert summary["cache_hit_rate"] == pytest.approx(1 / 3)
    assert summary["spend_by_node"]["synthesize"]["calls"] == 3
    table = markdown_report(summary)
    assert "| exact match (lead sentence) | 0.500 ±" in table and "| citation precision | 0.500 ±" in table
    assert "| partial answers | 1 (33.3%); complete 2, hops 1 | 3 |" in table
    assert "| budget violations | 1 (usd 0 · tokens 1 · hops 0 · seconds 0) | 3 |" in table


def test_metric_without_any_defined_value_is_n_a():
    summary = summarize([row("a", gold_answers=[], em=None, f1=None, contains=None)], INFO)
    assert summary["answer"]["f1"] == {"mean": None, "ci95": None, "n": 0}
    assert "| F1 (lead sentence) | n/a | 0 |" in markdown_report(summary)


def test_rows_round_trip_and_a_torn_last_line_is_dropped_on_append(tmp_path: Path):
    path = tmp_path / "answers.jsonl"
    lines = [json.dumps(row("a").to_json()), json.dumps(row("b").to_json())]
    path.write_text(lines[0] + "\n" + lines[1] + "\n" + lines[1][:40])
    existing = read_rows(path)
    assert [r.id for r in existing.rows] == ["a", "b"] and existing.rows[0] == row("a") and existing.torn_line == 3
    assert path.read_text().endswith(lines[1][:40]), "reading changes nothing"
    with open_for_append(path, existing) as handle:
        handle.write(json.dumps(row("c").to_json()) + "\n")
    assert [r.id for r in read_rows(path).rows] == ["a", "b", "c"]


def test_a_malformed_middle_line_is_an_error(tmp_path: Path):
    path = tmp_path / "answers.jsonl"
    path.write_text(json.dumps({"id": "a"}) + "\n" + json.dumps(row("b").to_json()) + "\n")
    with pytest.raises(DatasetError, match=r"answers.jsonl:1: not an answers.jsonl row \(missing field 'question'\)"):
        read_rows(path)
