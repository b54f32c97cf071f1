"""Every shared set in one table, under the honest protocol (see eval/protocol.py).

Systems: the live `dense`, `bm25`, `kg`, `hybrid`, `hybrid_rerank` (the default configuration),
and, re-fused offline from the same candidate lists the hybrid call retrieved:
- `rrf_equal`: equal-weight RRF of BM25 and dense, k=60 (the baseline to beat);
- `fusion_kfold`: fusion weights chosen from GRID by k-fold over the set's queries;
- `fusion_lodo`: fusion weights chosen on every other set (leave-one-dataset-out).
Each reported figure of a chosen system comes from queries that were not used to choose it.
"""

import itertools
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from quarry.eval.datasets import EvalDataset
from quarry.eval.metrics import dedupe
from quarry.eval.protocol import HeldOut, bootstrap_ci, select_kfold, select_leave_one_out
from quarry.eval.retrieval import score_query
from quarry.tools.config import FusionConfig
from quarry.tools.fusion import fuse
from quarry.tools.hits import Hit

RRF_EQUAL = FusionConfig(k=60, dense_weight=1.0, bm25_weight=1.0, kg_weight=0.0)
GRID = tuple(
    FusionConfig(k=60, dense_weight=d, bm25_weight=b, kg_weight=g)
    for d, b, g in itertools.product((0.5, 1.0, 2.0), (0.5, 1.0, 2.0), (0.0, 0.25, 1.0))
)
LIVE = ("dense", "bm25", "kg", "hybrid", "hybrid_rerank")
REPORTED_METRICS = ("ndcg@10", "recall@2", "recall@5", "all_gold@10")

Row = Mapping[str, float | str]


def config_name(config: FusionConfig) -> str:
    return f"rrf k={config.k} dense={config.dense_weight:g} bm25={config.bm25_weight:g} kg={config.kg_weight:g}"


@dataclass(frozen=True, kw_only=True)
class SetResult:
    """One set's per-query rows: per system (live or fixed) and per grid configuration."""

    dataset: EvalDataset
    systems: dict[str, dict[str, Row]]
    """System → query id → scored row."""
    grid: dict[str, dict[str, Row]]
    """Grid configuration name → query id → scored row."""
    configs: dict[str, str] = field(default_factory=dict)
    """System → the configuration that produced it (fixed systems)."""

    @property
    def multi_hop(self) -> bool:
        return any(q.multi_hop for q in self.dataset.queries)

    @property
    def primary(self) -> str:
        """The metric choices are made on: both-gold@10 for multi-hop sets, nDCG@10 otherwise."""
        return "all_gold@10" if self.multi_hop else "ndcg@10"

    def grid_scores(self) -> dict[str, dict[str, float]]:
        return {name: {q: float(row[self.primary]) for q, row in rows.items()} for name, rows in self.grid.items()}


def refuse(
    dataset: EvalDataset, candidates: Mapping[str, Mapping[str, Sequence[Hit]]], config: FusionConfig
) -> dict[str, Row]:
    """Score every query of `dataset` with `config` over its captured candidate lists (by query text)."""
    rows: dict[str, Row] = {}
    for query in dataset.queries:
        fused = fuse(candidates.get(query.text, {}), config)
        rows[query.id] = score_query(query, dedupe([f.hit.document_id for f in fused]))
    return rows


def set_result(
    dataset: EvalDataset,
    live: Mapping[str, Sequence[Row]],
    candidates: Mapping[str, Mapping[str, Sequence[Hit]]],
    default: FusionConfig,
) -> SetResult:
    systems = {name: {str(row["query_id"]): row for row in live[name]} for name in LIVE if name in live}
    systems["rrf_equal"] = refuse(dataset, candidates, RRF_EQUAL)
    configs = {name: f"default ({config_name(default)})" for name in ("hybrid", "hybrid_rerank")}
    configs["hybrid_rerank"] += " + offline rerank"
    configs["rrf_equal"] = config_name(RRF_EQUAL)
    grid = {config_name(c): refuse(dataset, candidates, c) for c in GRID}
    return SetResult(dataset=dataset, systems=systems, grid=grid, configs=configs)


def held_out_rows(result: SetResult, held: HeldOut) -> dict[str, Row]:
    return {q: result.grid[held.chosen[q]][q] for q in held.scores}


def build_report(results: Sequence[SetResult], *, folds: int, seed: int) -> dict[str, Any]:
    """The table's data: per set, per system, each metric's mean and bootstrap 95% interval, the
    configuration(s) behind it, and every selection made (chosen on what, reported on what)."""
    by_name = {r.dataset.name: r for r in results}
    tables = {name: r.grid_scores() for name, r in by_name.items()}
    report: dict[str, Any] = {"folds": folds, "seed": seed, "grid": [config_name(c) for c in GRID], "sets": {}}
    for name, result in by_name.items():
        systems = dict(result.systems)
        configs = dict(result.configs)
        selections: dict[str, Any] = {}
        kfold = select_kfold(tables[name], [q.id for q in result.dataset.queries], k=folds, seed=seed)
        systems["fusion_kfold"] = held_out_rows(result, kfold)
        configs["fusion_kfold"] = _chosen_summary(kfold)
        selections["fusion_kfold"] = kfold.choices
        if len(by_name) > 1:
            lodo = select_leave_one_out(tables, name)
            systems["fusion_lodo"] = held_out_rows(result, lodo)
            configs["fusion_lodo"] = _chosen_summary(lodo)
            selections["fusion_lodo"] = lodo.choices
        metrics = [m for m in REPORTED_METRICS if result.multi_hop or m != "all_gold@10"]
        report["sets"][name] = {
            "documents": len(result.dataset.documents),
            "queries": len(result.dataset.queries),
            "primary": result.primary,
            "systems": {
                system: {
                    "config": configs.get(system, "live retriever alone"),
                    **{m: _ci([float(r[m]) for r in rows.values()], seed) for m in metrics},
                }
                for system, rows in systems.items()
            },
            "selections": selections,
            "paired": _paired(systems, result.primary, seed),
        }
    return report


def _paired(systems: Mapping[str, Mapping[str, Row]], metric: str, seed: int) -> dict[str, dict[str, float]]:
    """hybrid_rerank minus each other system on the same queries: mean difference and its bootstrap interval."""
    if "hybrid_rerank" not in systems:
        return {}
    ours = systems["hybrid_rerank"]
    return {
        f"hybrid_rerank - {other}": _ci([float(ours[q][metric]) - float(rows[q][metric]) for q in ours], seed)
        for other, rows in systems.items()
        if other != "hybrid_rerank"
    }


def _chosen_summary(held: HeldOut) -> str:
    counts: dict[str, int] = {}
    for config in held.chosen.values():
        counts[config] = counts.get(config, 0) + 1
    return "; ".join(f"{config} ({n} q)" for config, n in sorted(counts.items(), key=lambda kv: -kv[1]))


def _ci(values: list[float], seed: int) -> dict[str, float]:
    mean, low, high = bootstrap_ci(values, seed=seed)
    return {"mean": round(mean, 4), "ci95_low": round(low, 4), "ci95_high": round(high, 4)}


def markdown(report: Mapping[str, Any]) -> str:
    lines = [
        "| set | system | queries | nDCG@10 | recall@2 | recall@5 | both-gold@10 | configuration |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, data in report["sets"].items():
        for system, cells in data["systems"].items():
            shown = [_cell(cells.get(m)) for m in REPORTED_METRICS]
            lines.append(f"| {name} | {system} | {data['queries']} | " + " | ".join(shown) + f" | {cells['config']} |")
    lines += ["", "| set | paired difference on the primary metric | mean [95% interval] |", "|---|---|---|"]
    for name, data in report["sets"].items():
        for pair, cell in data["paired"].items():
            lines.append(f"| {name} | {pair} ({data['primary']}) | {_cell(cell)} |")
    lines += [
        "",
        f"Mean [bootstrap 95% interval over queries, 2000 resamples, seed {report['seed']}]. "
        f"fusion_kfold: weights chosen on the other {report['folds'] - 1} of {report['folds']} folds of the set; "
        "fusion_lodo: chosen on every other set (each set weighs the same); both choose on the set's primary "
        "metric (nDCG@10, or both-gold@10 on multi-hop sets) and are reported only on queries not used to choose. "
        "rrf_equal, fusion_* are re-fused from the candidates the hybrid call retrieved (no latency of their own).",
    ]
    return "\n".join(lines) + "\n"


def _cell(value: Mapping[str, float] | None) -> str:
    if value is None:
        return "—"
    return f"{value['mean']:.3f} [{value['ci95_low']:.3f}, {value['ci95_high']:.3f}]"


def write(report: Mapping[str, Any], out_dir: Path) -> str:
    out_dir.mkdir(parents=True, exist_ok=True)
    table = markdown(report)
    (out_dir / "suite.json").write_text(json.dumps(report, indent=2))
    (out_dir / "suite.md").write_text(table)
    return table
