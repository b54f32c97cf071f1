"""Benchmark: how often does the semantic cache serve a wrong answer to a near miss, and how often
does it still serve a true paraphrase?

Run: `python -m bench.bench_cache_guard [--out FILE] [--baseline-rev REV]`. Prints Markdown tables,
writes JSON (default bench/out/bench_cache_guard.json).

The set is bench/data/cache_near_miss.jsonl (made by bench/cache_near_miss_set.py): pairs of a cached
question and a new one, labelled "hit" (a true paraphrase) or "miss" (an antonym, a look-alike, a
negation, a number/date/name swap, a role reversal, a relation swap, a question asking for more).
Its seeds are split in two at random (fixed seed): the cosine threshold of each system is chosen
on the tuning half (the lowest threshold whose false-hit rate there is ≤ --target, i.e. the best
recall within it) and everything reported is measured on the held-out half, whose seeds, and so
most of whose words, the choice never saw. Intervals are Wilson 95%.

Systems, all measured in this run on the same embeddings (the configured model):
- cosine only: serve when cosine ≥ threshold (the GPTCache / RedisVL approach);
- guard: cosine ≥ threshold and tools/cache_guard.py agrees (what Quarry serves);
- baseline guard (with --baseline-rev, default the commit before this guard): the previous guard
  loaded from git, with its word-embedding synonym rule, at the same thresholds.
"""

import argparse
import importlib.util
import json
import math
import random
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from quarry.corpus.config import EmbeddingConfig
from quarry.corpus.embed import LocalEmbeddings
from quarry.tools.cache_guard import same_question

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / "bench" / "data" / "cache_near_miss.jsonl"
GRID = [round(0.50 + 0.01 * i, 2) for i in range(50)]
BASELINE_REV = "3d91133"
SPLIT_SEED = 20


@dataclass(frozen=True)
class Pair:
    seed: str
    a: str
    b: str
    kind: str
    hit: bool


Judge = Callable[[str, str], bool]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.bench_cache_guard", description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "out" / "bench_cache_guard.json")
    parser.add_argument("--target", type=float, default=0.01, help="false-hit rate allowed on the tuning half")
    parser.add_argument("--baseline-rev", default=BASELINE_REV, help="git revision of the previous guard ('' to skip)")
    args = parser.parse_args(argv)
    pairs = [_pair(json.loads(line)) for line in DATA.read_text().splitlines() if line.strip()]
    seeds = sorted({p.seed for p in pairs})
    random.Random(SPLIT_SEED).shuffle(seeds)
    tune_seeds = set(seeds[: len(seeds) // 2])
    tune = [p for p in pairs if p.seed in tune_seeds]
    held = [p for p in pairs if p.seed not in tune_seeds]
    embedder = LocalEmbeddings(EmbeddingConfig())
    embedder.load()
    texts = sorted({p.a for p in pairs} | {p.b for p in pairs})
    vectors = dict(zip(texts, (np.asarray(v, dtype=np.float32) for v in embedder.embed_documents(texts)), strict=True))
    cosine = {(p.a, p.b): float(np.dot(vectors[p.a], vectors[p.b])) for p in pairs}
    systems: dict[str, Judge] = {"cosine only": lambda a, b: True, "guard": lambda a, b: same_question(a, b).agree}
    old = _baseline_guard(args.baseline_rev, embedder) if args.baseline_rev else None
    if old is not None:
        systems[f"baseline guard ({args.baseline_rev})"] = old
    results: dict = {
        "set": str(DATA.relative_to(REPO)),
        "pairs": {"tune": len(tune), "held_out": len(held)},
        "seeds": {"tune": len(tune_seeds), "held_out": len(seeds) - len(tune_seeds)},
        "target_false_hit_rate": args.target,
        "model": embedder.model_name,
        "systems": {},
    }
    for name, judge in systems.items():
        agree = {(p.a, p.b): judge(p.a, p.b) and judge(p.b, p.a) for p in pairs}
        threshold = _choose(tune, cosine, agree, args.target)
        results["systems"][name] = {
            "threshold": threshold,
            "tune": _score(tune, cosine, agree, threshold),
            "held_out": _score(held, cosine, agree, threshold),
            "held_out_at_0.85": _score(held, cosine, agree, 0.85),
        }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2))
    _print(results)
    print(f"\nwrote {args.out}")
    return 0


def _pair(row: dict[str, str]) -> Pair:
    return Pair(row["seed"], row["a"], row["b"], row["kind"], row["label"] == "hit")


def _choose(pairs: list[Pair], cosine: dict, agree: dict, target: float) -> float:
    """The lowest threshold (best recall) whose false-hit rate on `pairs` is within `target`."""
    for t in GRID:
        misses = [p for p in pairs if not p.hit]
        wrong = sum(1 for p in misses if cosine[p.a, p.b] >= t and agree[p.a, p.b])
        if wrong <= target * len(misses):
            return t
    return 1.0


def _score(pairs: list[Pair], cosine: dict, agree: dict, t: float) -> dict:
    served = {(p.a, p.b): cosine[p.a, p.b] >= t and agree[p.a, p.b] for p in pairs}
    hits = [p for p in pairs if p.hit]
    misses = [p for p in pairs if not p.hit]
    tp = sum(served[p.a, p.b] for p in hits)
    fp = sum(served[p.a, p.b] for p in misses)
    kinds = sorted({p.kind for p in misses})
    return {
        "recall": _rate(tp, len(hits)),
        "false_hit_rate": _rate(fp, len(misses)),
        "precision": _rate(tp, tp + fp),
        "false_hits_by_kind": {
            k: _rate(sum(served[p.a, p.b] for p in misses if p.kind == k), sum(p.kind == k for p in misses))
            for k in kinds
        },
        "false_hits": [
            {"a": p.a, "b": p.b, "kind": p.kind, "cosine": round(cosine[p.a, p.b], 3)}
            for p in misses
            if served[p.a, p.b]
        ],
    }


def _rate(k: int, n: int) -> dict:
    low, high = _wilson(k, n)
    return {"k": k, "n": n, "rate": round(k / n, 4) if n else None, "ci95": [round(low, 4), round(high, 4)]}


def _wilson(k: int, n: int, z: float = 1.96) -> tuple[float, float]:
    if n == 0:
        return 0.0, 1.0
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def _baseline_guard(rev: str, embedder: LocalEmbeddings) -> Judge | None:
    """The guard as it was at `rev` (with its word-similarity synonym rule), or None without git."""
    try:
        source = subprocess.run(
            ["git", "show", f"{rev}:tools/cache_guard.py"], cwd=REPO, capture_output=True, text=True, check=True
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        print(f"(no baseline: git show {rev}:tools/cache_guard.py failed)", file=sys.stderr)
        return None
    path = Path(tempfile.mkdtemp()) / "baseline_cache_guard.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location("baseline_cache_guard", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)

    def similarity(x: str, y: str) -> float:
        left, right = embedder.embed_documents([x, y])
        return float(np.dot(left, right))

    return lambda a, b: bool(module.same_question(a, b, similarity).agree)


def _print(results: dict) -> None:
    print(
        f"\nHeld-out half: {results['pairs']['held_out']} pairs from {results['seeds']['held_out']} seeds "
        f"(threshold chosen on the other {results['pairs']['tune']} pairs, false hits ≤ {results['target_false_hit_rate']:.0%})\n"
    )
    print("| system | threshold | recall (paraphrases served) | false-hit rate (near misses served) | precision |")
    print("|---|---|---|---|---|")
    for name, s in results["systems"].items():
        for label, key, t in (("chosen", "held_out", s["threshold"]), ("config 0.85", "held_out_at_0.85", 0.85)):
            h = s[key]
            print(
                f"| {name} | {t:.2f} ({label}) | {_fmt(h['recall'])} | {_fmt(h['false_hit_rate'])} | {_fmt(h['precision'])} |"
            )
    print("\nNear misses served, by kind, on the held-out half at the configured threshold 0.85:\n")
    systems = results["systems"].values()
    kinds = sorted({k for s in systems for k in s["held_out_at_0.85"]["false_hits_by_kind"]})
    print("| kind | " + " | ".join(results["systems"]) + " |")
    print("|---|" + "---|" * len(results["systems"]))
    for kind in kinds:
        cells = [_fmt(s["held_out_at_0.85"]["false_hits_by_kind"][kind]) for s in systems]
        print(f"| {kind} | " + " | ".join(cells) + " |")


def _fmt(r: dict) -> str:
    if not r["n"]:
        return "–"
    return f"{r['k']}/{r['n']} = {r['rate']:.3f} [{r['ci95'][0]:.3f}, {r['ci95'][1]:.3f}]"


if __name__ == "__main__":
    sys.exit(main())
