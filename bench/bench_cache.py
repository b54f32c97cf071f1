"""Benchmark: does the semantic cache serve the right answers, and how fast is a hit?

Run: `python -m bench.bench_cache [--out FILE]` (or `make bench`). Prints Markdown tables, writes
JSON (default bench/out/bench_cache.json).

A. Correctness on labelled question pairs: paraphrases that should hit, near-misses that must not
   (different entity, year, quantity, negation, direction, object, or a question that asks for
   more). For each threshold (0.80/0.85/0.90/0.95), threshold-only caching (cosine ≥ threshold:
   the GPTCache / RedisVL approach) beside the guarded cache (cosine ≥ threshold and the guard,
   tools/cache_guard.py): hit rate on paraphrases, wrong-hit rate on near-misses, with a 95%
   upper bound (Wilson) where the count is 0.
   Sets: eval/data/cache_pairs.jsonl (the development set the guard was built against) and
   eval/data/cache_pairs_heldout.jsonl (written after the guard, used once for one fix), plus any
   public paraphrase set under ../shared/data/ (folders named like quora/qqp/paws/paraphrase with
   a JSONL or TSV of question1, question2, is_duplicate); none is there today.
B. Latency: `Assistant.ask` on the sample corpus with the offline model, each question asked once
   (a miss: research) and again (a hit), measured in the same run: wall time of the whole call
   (query embedding, lookup, ledger rows, graph) for hits vs misses.
"""

import argparse
import csv
import json
import math
import os
import platform
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from quarry.agent.assistant import Assistant
from quarry.corpus.config import EmbeddingConfig
from quarry.corpus.embed import LocalEmbeddings
from quarry.tools.cache_guard import same_question

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "data"
SETS = {
    "development": REPO / "bench" / "data" / "cache_pairs.jsonl",
    "held-out": REPO / "bench" / "data" / "cache_pairs_heldout.jsonl",
}
THRESHOLDS = (0.80, 0.85, 0.90, 0.95)
PUBLIC_HINTS = ("quora", "qqp", "paws", "paraphrase")
PUBLIC_LIMIT = 2000


@dataclass(frozen=True)
class Pair:
    a: str
    b: str
    paraphrase: bool
    kind: str = ""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.bench_cache", description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path("bench/out/bench_cache.json"))
    parser.add_argument(
        "--latency-rounds", type=int, default=3, help="times each sample question is asked again (hits)"
    )
    args = parser.parse_args(argv)
    sets = {name: _read_pairs(path) for name, path in SETS.items()}
    public = _public_pairs()
    if public:
        sets.update(public)
    else:
        say(
            f"no public paraphrase set under {SHARED} (looked for {', '.join(PUBLIC_HINTS)}); using the written sets only"
        )
    embedder = LocalEmbeddings(EmbeddingConfig())
    embedder.load()
    results: dict = {"machine": {"cpus": os.cpu_count(), "platform": platform.platform()}, "correctness": {}}
    for name, pairs in sets.items():
        say(f"scoring {len(pairs)} pairs of the {name} set…")
        results["correctness"][name] = score(pairs, embedder)
    everything = [p for pairs in sets.values() for p in pairs]
    results["correctness"]["all"] = score(everything, embedder)
    say("latency: asking the sample questions (misses), then again (hits)…")
    results["latency"] = bench_latency(args.latency_rounds)
    report(results)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    say(f"wrote {args.out}")
    return 0


def score(pairs: list[Pair], embedder: LocalEmbeddings) -> dict:
    left = np.asarray(embedder.embed_documents([p.a for p in pairs]))
    right = np.asarray(embedder.embed_documents([p.b for p in pairs]))
    cosine = (left * right).sum(axis=1)
    agree = [same_question(p.a, p.b).agree for p in pairs]
    paraphrases = [i for i, p in enumerate(pairs) if p.paraphrase]
    near = [i for i, p in enumerate(pairs) if not p.paraphrase]
    rows = []
    for threshold in THRESHOLDS:
        close = cosine >= threshold
        rows.append(
            {
                "threshold": threshold,
                "threshold_only": _rates(close, close, paraphrases, near),
                "guarded": _rates(close, close & np.asarray(agree), paraphrases, near),
                "wrong_hits_threshold_only_by_kind": _by_kind(pairs, close, near),
            }
        )
    return {
        "paraphrases": len(paraphrases),
        "near_misses": len(near),
        "rows": rows,
        "guard_wrong_hits_at_085": [f"{pairs[i].a} | {pairs[i].b}" for i in near if cosine[i] >= 0.85 and agree[i]],
    }


def _rates(close: np.ndarray, served: np.ndarray, paraphrases: list[int], near: list[int]) -> dict:
    hits = int(served[paraphrases].sum())
    wrong = int(served[near].sum())
    return {
        "hit_rate": hits / len(paraphrases) if paraphrases else 0.0,
        "hits": hits,
        "wrong_hit_rate": wrong / len(near) if near else 0.0,
        "wrong_hits": wrong,
        "wrong_hit_upper95": _wilson_upper(wrong, len(near)),
    }


def _by_kind(pairs: list[Pair], close: np.ndarray, near: list[int]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for i in near:
        if close[i]:
            kind = pairs[i].kind or "unlabelled"
            counts[kind] = counts.get(kind, 0) + 1
    return counts


def _wilson_upper(successes: int, n: int, z: float = 1.96) -> float:
    if n == 0:
        return 0.0
    p = successes / n
    centre = p + z * z / (2 * n)
    margin = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return (centre + margin) / (1 + z * z / n)


def bench_latency(rounds: int) -> dict:
    questions = [
        json.loads(line)["question"] for line in (REPO / "examples" / "questions.jsonl").read_text().splitlines()
    ]
    overrides = {} if os.environ.get("QUARRY_DATABASE_URL") else {"data_dir": tempfile.mkdtemp(prefix="quarry-bench-")}
    with Assistant.from_config(environ={}, database__schema_name="bench_cache", **overrides) as assistant:
        assistant.components.cache.clear()
        assistant.ingest(REPO / "examples" / "corpus")
        assistant.components.embedder.load()
        assistant.ask("warm-up: which team owns Keel?", use_cache=False)
        misses, hits, lookups, served = [], [], [], 0
        for question in questions:
            started = time.perf_counter()
            answer = assistant.ask(question)
            misses.append((time.perf_counter() - started) * 1000)
            stored = not answer.partial
            for _ in range(rounds):
                started = time.perf_counter()
                again = assistant.ask(question)
                elapsed = (time.perf_counter() - started) * 1000
                if again.cache_hit:
                    served += 1
                    hits.append(elapsed)
                    lookups.append(next(s.ms for s in assistant.run(again.run_id).trace if s.node == "cache_lookup"))
                elif stored:
                    say(f"expected a hit for {question!r}")
    return {
        "questions": len(questions),
        "rounds": rounds,
        "hits": served,
        "miss_ms": _summary(misses),
        "hit_ms": _summary(hits),
        "lookup_node_ms": _summary(lookups),
        "speedup_p50": round(statistics.median(misses) / statistics.median(hits), 1) if hits else None,
    }


def _summary(values: list[float]) -> dict:
    if not values:
        return {}
    ordered = sorted(values)
    return {
        "p50": round(statistics.median(ordered), 2),
        "p95": round(ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))], 2),
        "max": round(ordered[-1], 2),
        "n": len(ordered),
    }


def report(results: dict) -> None:
    for name, result in results["correctness"].items():
        print(
            f"\n### Correctness: {name} set ({result['paraphrases']} paraphrases, {result['near_misses']} near-misses)\n"
        )
        print(
            "| threshold | threshold-only hit rate | threshold-only wrong hits | guarded hit rate | guarded wrong hits (95% upper) |"
        )
        print("|---|---|---|---|---|")
        for row in result["rows"]:
            t, g = row["threshold_only"], row["guarded"]
            print(
                f"| {row['threshold']:.2f} | {t['hit_rate']:.1%} ({t['hits']}) | {t['wrong_hit_rate']:.1%} ({t['wrong_hits']}) "
                f"| {g['hit_rate']:.1%} ({g['hits']}) | {g['wrong_hit_rate']:.1%} ({g['wrong_hits']}; ≤ {g['wrong_hit_upper95']:.1%}) |"
            )
        kinds = result["rows"][1]["wrong_hits_threshold_only_by_kind"]
        if kinds:
            print(
                "\nThreshold-only wrong hits at 0.85 by kind: "
                + ", ".join(f"{k} {v}" for k, v in sorted(kinds.items()))
            )
    lat = results["latency"]
    print(
        f"\n### Latency: Assistant.ask on the sample corpus, offline model ({lat['questions']} questions, {lat['hits']} hits)\n"
    )
    print("| path | p50 ms | p95 ms | max ms | n |")
    print("|---|---|---|---|---|")
    for label, key in (
        ("miss (research)", "miss_ms"),
        ("hit (whole ask)", "hit_ms"),
        ("hit: cache_lookup node", "lookup_node_ms"),
    ):
        s = lat[key]
        print(f"| {label} | {s.get('p50', '—')} | {s.get('p95', '—')} | {s.get('max', '—')} | {s.get('n', 0)} |")
    print(f"\nHit vs miss, p50: {lat['speedup_p50']}× faster.")


def _read_pairs(path: Path) -> list[Pair]:
    pairs = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            row = json.loads(line)
            pairs.append(Pair(row["a"], row["b"], row["label"] == "paraphrase", row.get("kind", "")))
    return pairs


def _public_pairs() -> dict[str, list[Pair]]:
    found: dict[str, list[Pair]] = {}
    if not SHARED.is_dir():
        return found
    for folder in sorted(SHARED.iterdir()):
        if not folder.is_dir() or not any(hint in folder.name.lower() for hint in PUBLIC_HINTS):
            continue
        for file in sorted(folder.glob("*.jsonl")) + sorted(folder.glob("*.tsv")):
            pairs = _public_file(file)
            if pairs:
                found[f"{folder.name}/{file.name}"] = pairs[:PUBLIC_LIMIT]
                break
    return found


def _public_file(file: Path) -> list[Pair]:
    pairs = []
    with file.open(encoding="utf-8") as handle:
        rows = (
            (json.loads(line) for line in handle if line.strip())
            if file.suffix == ".jsonl"
            else csv.DictReader(handle, delimiter="\t")
        )
        for row in rows:
            a, b = row.get("question1") or row.get("sentence1"), row.get("question2") or row.get("sentence2")
            label = row.get("is_duplicate", row.get("label"))
            if a and b and label is not None:
                pairs.append(Pair(a, b, str(label).strip() in ("1", "True", "true")))
    return pairs


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


if __name__ == "__main__":
    sys.exit(main())
