"""The `quarry eval qa` report: aggregates over every row of answers.jsonl, as JSON and a Markdown table.

Means come with the half-width of a 95% normal-approximation interval; a metric that is undefined
for a question (no gold answers, no gold sources, nothing cited) is left out of its mean, and `n`
says how many questions it covers.
"""

import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from quarry.eval.metrics import mean_ci95, percentile
from quarry.eval.qa_metrics import DEADLINE_TOLERANCE_S, defined
from quarry.eval.qa_rows import QaRow

VIOLATION_KINDS = ("usd", "tokens", "hops", "seconds")


@dataclass(frozen=True)
class RunInfo:
    """What a run in an output folder evaluated and under which limits (run.json). A resumed run must
    match it, or its rows would not be comparable."""

    dataset: str
    path: str
    format: str
    fingerprint: str
    """sha256 of the dataset file(s)."""
    corpus: str
    """The evaluation corpus's PostgreSQL schema."""
    documents: int
    limits: dict[str, Any]
    documents_folder: str | None = None
    max_documents: int | None = None
    concurrency: int = 4

    def identity(self) -> dict[str, Any]:
        """The fields a resumed run must share (concurrency and question count may differ)."""
        return {k: v for k, v in asdict(self).items() if k not in ("concurrency", "documents")}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "RunInfo":
        return cls(**data)


def summarize(rows: Sequence[QaRow], info: RunInfo, notes: Sequence[str] = ()) -> dict[str, Any]:
    count = len(rows)
    latencies = [r.latency_s for r in rows]
    stopped = Counter(r.stopped_by or "complete" for r in rows)
    by_node: dict[str, dict[str, float]] = {}
    for row in rows:
        for node, spent in row.spend_by_node.items():
            slot = by_node.setdefault(node, {"usd": 0.0, "input_tokens": 0, "output_tokens": 0, "calls": 0})
            for key in slot:
                slot[key] += spent.get(key, 0)
    return {
        "run": asdict(info),
        "questions": count,
        "answer": {
            "exact_match": _stat([r.em for r in rows]),
            "f1": _stat([r.f1 for r in rows]),
            "contains": _stat([r.contains for r in rows]),
            "answered": _outcomes(rows),
        },
        "evidence": {
            "cited_recall": _stat([r.cited_recall for r in rows]),
            "kept_recall": _stat([r.evidence_recall for r in rows]),
            "citation_precision": _stat([r.citation_precision for r in rows]),
        },
        "budget": {
            "deadline_tolerance_s": DEADLINE_TOLERANCE_S,
            "violations": {kind: sum(r.budget_violations.get(kind, False) for r in rows) for kind in VIOLATION_KINDS},
            "questions_with_violations": sum(r.violated for r in rows),
            "partial": sum(r.partial for r in rows),
            "partial_rate": _share(sum(r.partial for r in rows), count),
            "stopped_by": dict(sorted(stopped.items())),
        },
        "latency_s": {
            "p50": percentile(latencies, 50),
            "p95": percentile(latencies, 95),
            "mean": _mean(latencies),
            "max": max(latencies, default=0.0),
        },
        "tokens": {
            "mean": _mean([r.tokens for r in rows]),
            "total": sum(r.tokens for r in rows),
            "input_total": sum(r.input_tokens for r in rows),
            "output_total": sum(r.output_tokens for r in rows),
        },
        "usd": {"mean": _mean([r.usd for r in rows]), "total": sum(r.usd for r in rows)},
        "spend_by_node": dict(sorted(by_node.items())),
        "cache_hit_rate": _share(sum(r.cache_hit for r in rows), count),
        "notes": list(notes),
    }


def markdown_report(summary: dict[str, Any]) -> str:
    run, budget, limits = summary["run"], summary["budget"], summary["run"]["limits"]
    lines = [
        f"## Question answering on {run['dataset']} ({summary['questions']} questions, {run['documents']} documents, "
        f"corpus '{run['corpus']}')",
        "",
        "| metric | value | questions |",
        "|---|---|---|",
    ]
    for label, stat in (
        ("exact match (lead sentence)", summary["answer"]["exact_match"]),
        ("F1 (lead sentence)", summary["answer"]["f1"]),
        ("contains answer (whole gold answer)", summary["answer"]["contains"]),
        ("evidence recall, cited", summary["evidence"]["cited_recall"]),
        ("evidence recall, kept", summary["evidence"]["kept_recall"]),
        ("citation precision", summary["evidence"]["citation_precision"]),
    ):
        value = "n/a" if stat["mean"] is None else f"{stat['mean']:.3f} ±{stat['ci95']:.3f}"
        lines.append(f"| {label} | {value} | {stat['n']} |")
    count = summary["questions"]
    outcome = summary["answer"]["answered"]
    lines.append(
        f"| answered (the answer's own verdict) | {outcome['rate']:.1%}: yes {outcome['yes']} · partly "
        f"{outcome['partly']} · no {outcome['no']} | {outcome['n']} |"
    )
    stops = ", ".join(f"{reason} {n}" for reason, n in budget["stopped_by"].items())
    violations = " · ".join(f"{kind} {n}" for kind, n in budget["violations"].items())
    latency, tokens, usd = summary["latency_s"], summary["tokens"], summary["usd"]
    lines += [
        f"| partial answers | {budget['partial']} ({budget['partial_rate']:.1%}); {stops} | {count} |",
        f"| budget violations | {budget['questions_with_violations']} ({violations}) | {count} |",
        f"| latency p50 / p95 | {latency['p50']:.2f} s / {latency['p95']:.2f} s (max {latency['max']:.2f} s) | {count} |",
        f"| tokens per question | {tokens['mean']:.0f} mean · {tokens['total']} total | {count} |",
        f"| dollars per question | ${usd['mean']:.6f} mean · ${usd['total']:.6f} total | {count} |",
        f"| cache hit rate | {summary['cache_hit_rate']:.1%} | {count} |",
        "",
        f"Limits per question: max_usd ${limits['max_usd']}, max_tokens {limits['max_tokens']}, max_hops "
        f"{limits['max_hops']}, max_seconds {limits['max_seconds']} (+{budget['deadline_tolerance_s']} s tolerance "
        "on the caller's wall time).",
        "± is the half-width of a 95% normal-approximation interval over the questions the metric is defined for.",
        "Exact match and F1 score the answer's first sentence (its short answer); 'contains' asks for the whole "
        "normalised gold answer (every part of a compound one) anywhere in the answer.",
    ]
    lines += [f"- {note}" for note in summary["notes"]]
    return "\n".join(lines) + "\n"


def write_report(out_dir: Path, summary: dict[str, Any]) -> str:
    table = markdown_report(summary)
    (out_dir / "report.json").write_text(json.dumps(summary, indent=2) + "\n")
    (out_dir / "report.md").write_text(table)
    return table


def _stat(values: Sequence[float | None]) -> dict[str, Any]:
    present = defined(values)
    if not present:
        return {"mean": None, "ci95": None, "n": 0}
    mean, half = mean_ci95(present)
    return {"mean": mean, "ci95": half, "n": len(present)}


def _outcomes(rows: Sequence[QaRow]) -> dict[str, Any]:
    known = [r.answered for r in rows if r.answered is not None]
    yes = sum(1 for a in known if a is True)
    partly = sum(1 for a in known if a == "partly")
    return {
        "rate": _share(yes, len(known)),
        "yes": yes,
        "partly": partly,
        "no": len(known) - yes - partly,
        "n": len(known),
    }


def _mean(values: Sequence[float]) -> float:
    return sum(values) / len(values) if values else 0.0


def _share(part: int, whole: int) -> float:
    return part / whole if whole else 0.0
