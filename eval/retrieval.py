"""Retrieval evaluation: every retriever and the peer, same corpus, same queries, one table.

Run: `quarry eval retrieval DATASET [--limit N --k 10 --out DIR]`. Writes DIR/retrieval.json
({system: {"recall@10": ..., "ndcg@10": ..., ...}} plus per-query rows) and DIR/retrieval.md.
"""

import json
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from quarry.eval.datasets import EvalDataset, EvalQuery
from quarry.eval.metrics import all_found_at, dedupe, mean_ci95, ndcg_at, percentile, recall_at, reciprocal_rank

RECALL_KS = (2, 5, 10, 20)

# A system takes the query text and its embedding (computed once, shared) and returns the ranked
# document ids of its hits (chunk hits already mapped to their documents).
SystemFn = Callable[[str, list[float]], Sequence[str]]


@dataclass
class SystemRun:
    name: str
    per_query: list[dict[str, float | str]] = field(default_factory=list)
    latencies_ms: list[float] = field(default_factory=list)

    def summary(self, multi_hop: bool) -> dict[str, float]:
        metrics = [f"recall@{k}" for k in RECALL_KS] + ["ndcg@10", "mrr"] + (["all_gold@10"] if multi_hop else [])
        out: dict[str, float] = {}
        for metric in metrics:
            mean, half = mean_ci95([float(row[metric]) for row in self.per_query])
            out[metric] = round(mean, 4)
            out[f"{metric}_ci95"] = round(half, 4)
        out["p50_ms"] = round(percentile(self.latencies_ms, 50), 2)
        out["p95_ms"] = round(percentile(self.latencies_ms, 95), 2)
        out["queries"] = len(self.per_query)
        return out


def score_query(query: EvalQuery, ranked_documents: Sequence[str]) -> dict[str, float | str]:
    ranked = dedupe(ranked_documents)
    row: dict[str, float | str] = {"query_id": query.id}
    for k in RECALL_KS:
        row[f"recall@{k}"] = recall_at(ranked, query.relevant, k)
    row["ndcg@10"] = ndcg_at(ranked, query.relevant, 10)
    row["mrr"] = reciprocal_rank(ranked, query.relevant)
    row["all_gold@10"] = all_found_at(ranked, query.relevant, 10)
    return row


def evaluate(
    dataset: EvalDataset,
    systems: Mapping[str, SystemFn],
    embed_query: Callable[[str], list[float]],
    *,
    progress: Callable[[str], None] | None = None,
) -> dict[str, SystemRun]:
    runs = {name: SystemRun(name) for name in systems}
    for index, query in enumerate(dataset.queries, start=1):
        vector = embed_query(query.text)
        for name, system in systems.items():
            started = time.perf_counter()
            ranked = system(query.text, vector)
            runs[name].latencies_ms.append((time.perf_counter() - started) * 1000)
            runs[name].per_query.append(score_query(query, ranked))
        if progress:
            progress(f"query {index}/{len(dataset.queries)}")
    return runs


def write_reports(
    dataset: EvalDataset, runs: Mapping[str, SystemRun], out_dir: Path, notes: Sequence[str] = ()
) -> dict[str, Any]:
    out_dir.mkdir(parents=True, exist_ok=True)
    multi_hop = any(q.multi_hop for q in dataset.queries)
    report = {name: run.summary(multi_hop) for name, run in runs.items()}
    payload = {
        **report,
        "_meta": {
            "dataset": dataset.name,
            "format": dataset.format,
            "documents": len(dataset.documents),
            "queries": len(dataset.queries),
            "notes": list(notes),
        },
        "_per_query": {name: run.per_query for name, run in runs.items()},
    }
    (out_dir / "retrieval.json").write_text(json.dumps(payload, indent=2))
    (out_dir / "retrieval.md").write_text(markdown_table(dataset, report, notes))
    return report


def markdown_table(dataset: EvalDataset, report: Mapping[str, Mapping[str, float]], notes: Sequence[str] = ()) -> str:
    multi_hop = any(q.multi_hop for q in dataset.queries)
    columns = [f"recall@{k}" for k in RECALL_KS] + ["ndcg@10", "mrr"] + (["all_gold@10"] if multi_hop else [])
    lines = [
        f"## Retrieval on {dataset.name} ({len(dataset.documents)} documents, {len(dataset.queries)} queries)",
        "",
        "| system | " + " | ".join(columns) + " | p50 ms | p95 ms |",
        "|---|" + "---|" * (len(columns) + 2),
    ]
    for name, row in report.items():
        cells = [f"{row[c]:.3f} ±{row[c + '_ci95']:.3f}" for c in columns]
        lines.append(f"| {name} | " + " | ".join(cells) + f" | {row['p50_ms']:.1f} | {row['p95_ms']:.1f} |")
    lines += ["", "± is the half-width of a 95% normal-approximation interval over queries (small sets: read it)."]
    lines += [f"- {note}" for note in notes]
    return "\n".join(lines) + "\n"
