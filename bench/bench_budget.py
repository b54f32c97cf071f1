"""Benchmark: do budgets hold, how far past a deadline does a run return, what does the graph cost.

Run: `python -m bench.bench_budget [--provider claude|openai] [--runs 500] [--concurrency 8] [--out FILE]`
(or `make bench`). Prints Markdown tables, writes JSON (default bench/out/bench_budget[_openai].json).

--provider openai plays the models with the fake OpenAI-compatible API instead, driven by Quarry's
httpx client: each run is priced (gpt-test-mini / gpt-test, usage reported) or local (qwen-local at
$0, usage omitted by the server and estimated); besides hangs, 429 with Retry-After and 503, some
replies are a 200 that is not a completion.

Every run is the real LangGraph loop over the bundled sample corpus (real PostgreSQL, real
retrieval), with Claude played by the fake Messages API from the test suite, driven by the real
anthropic SDK. Each model call gets a random latency and a reported usage that is a random
multiple (0.7–1.3) of the cl100k count; some calls hang, some get 429 or 529.

A. Ceilings: runs with random limits; violations of max_usd / max_tokens / max_hops (goal 0) and
   deadline overshoot (return time past max_seconds) for every run (goal p99 ≤ 100 ms).
B. Overhead: sequential runs with instant replies; per node, its wall time minus time in model
   calls and retrieval (goal p50 ≤ 2 ms).
C. Reranking: the same questions with the cheap tier reranking 30 candidates per search down to 5
   before synthesis, against sending all 30 to the premium model; dollars per question.
"""

import argparse
import asyncio
import json
import os
import platform
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

from quarry.agent.components import Components
from quarry.agent.settings import load_settings
from quarry.graph.budget.limits import Limits
from quarry.graph.engine import Engine, ResearchRequest
from tests.support.fakes import openai_server
from tests.support.fakes.anthropic_server import Fail, FakeAnthropic, Hang, Script
from tests.support.fakes.claude_engine import claude_engine
from tests.support.fakes.openai_engine import openai_engine
from tests.support.fakes.openai_server import FakeOpenAI
from tests.support.fakes.research_replies import plausible_reply

REPO = Path(__file__).resolve().parents[1]
QUESTIONS = [json.loads(line)["question"] for line in (REPO / "examples" / "questions.jsonl").read_text().splitlines()]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.bench_budget", description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=500)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--overhead-runs", type=int, default=100)
    parser.add_argument("--rerank-runs", type=int, default=36)
    parser.add_argument("--seed", type=int, default=20261124)
    parser.add_argument("--provider", choices=("claude", "openai"), default="claude")
    parser.add_argument("--skip-overhead", action="store_true", help="only the ceilings and reranking tables")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    out = args.out or Path(f"bench/out/bench_budget{'' if args.provider == 'claude' else '_' + args.provider}.json")
    fake: Fake = FakeAnthropic().start() if args.provider == "claude" else FakeOpenAI().start()
    results: dict = {
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform()},
        "provider": args.provider,
    }
    try:
        with _components() as components:
            say("ingesting the sample corpus…")
            components.ingestor.ingest_paths([REPO / "examples" / "corpus"])
            components.embedder.load()
            results["ceilings"] = asyncio.run(
                bench_ceilings(components, fake, args.runs, args.concurrency, random.Random(args.seed))
            )
            if not args.skip_overhead:
                results["overhead"] = asyncio.run(
                    bench_overhead(components, fake, args.overhead_runs, random.Random(args.seed + 1))
                )
            results["rerank"] = asyncio.run(
                bench_rerank(components, fake, args.rerank_runs, random.Random(args.seed + 2))
            )
    finally:
        fake.stop()
    report(results)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2))
    say(f"wrote {out}")
    return 0


async def bench_ceilings(components: Components, fake: "Fake", runs: int, concurrency: int, rng: random.Random) -> dict:
    def respond(body: dict) -> Script:
        roll = rng.random()
        if roll < 0.04:
            return Hang(30)
        if roll < 0.08:
            return Fail(429, retry_after=0.05)
        if roll < 0.10:
            return Fail(529)
        return plausible_reply(body, rng, delay_s=rng.uniform(0, 0.3))

    def respond_openai(body: dict) -> openai_server.Script:
        local = body["model"] == "qwen-local"
        roll = rng.random()
        if roll < 0.04:
            return openai_server.Hang(30)
        if roll < 0.08:
            return openai_server.Fail(429, retry_after=0.05)
        if roll < 0.10:
            return openai_server.Fail(503)
        if roll < 0.12:
            return openai_server.Raw(b"<html>upstream hiccup</html>")
        return openai_server.from_messages_reply(
            plausible_reply(body, rng, delay_s=rng.uniform(0, 0.3)), usage=not local
        )

    if isinstance(fake, FakeOpenAI):
        fake.responder = respond_openai
    else:
        fake.responder = respond
    gate = asyncio.Semaphore(concurrency)
    outcomes: list[dict] = []

    async def one(i: int) -> None:
        limits = Limits(
            max_seconds=rng.uniform(0.5, 4.0),
            max_hops=rng.randint(1, 3),
            max_tokens=rng.randint(300, 30_000),
            max_usd=rng.choice([0.0, rng.uniform(0.0005, 0.05)]),
        )
        local = isinstance(fake, FakeOpenAI) and rng.random() < 0.5
        models = {"cheap": "qwen-local", "premium": "qwen-local"} if local else {}
        async with gate, _engine(components, fake, llm_rerank=rng.random() < 0.5, **models) as research:
            started = time.monotonic()
            answer = (await research.run(ResearchRequest(question=QUESTIONS[i % len(QUESTIONS)], budget=limits))).answer
            returned = time.monotonic() - started
        outcomes.append(
            {
                "limits": limits.model_dump(),
                "usd": answer.spend.usd,
                "tokens": answer.spend.tokens,
                "hops": answer.hops,
                "stopped_by": answer.stopped_by,
                "seconds": returned,
                "overshoot_ms": (returned - limits.max_seconds) * 1000,
            }
        )
        if len(outcomes) % 50 == 0:
            say(f"  ceilings: {len(outcomes)}/{runs} runs")

    await asyncio.gather(*(one(i) for i in range(runs)))
    violations = {
        "usd": sum(o["usd"] > o["limits"]["max_usd"] + 1e-12 for o in outcomes),
        "tokens": sum(o["tokens"] > o["limits"]["max_tokens"] for o in outcomes),
        "hops": sum(o["hops"] > o["limits"]["max_hops"] for o in outcomes),
        "deadline_over_100ms": sum(o["overshoot_ms"] > 100 for o in outcomes),
    }
    overshoot = sorted(max(0.0, o["overshoot_ms"]) for o in outcomes)
    stopped = {}
    for o in outcomes:
        stopped[o["stopped_by"] or "complete"] = stopped.get(o["stopped_by"] or "complete", 0) + 1
    return {
        "runs": runs,
        "concurrency": concurrency,
        "violations": violations,
        "stopped_by": stopped,
        "overshoot_ms": {"p50": _pct(overshoot, 50), "p99": _pct(overshoot, 99), "max": overshoot[-1]},
        "slowest": sorted(outcomes, key=lambda o: -o["overshoot_ms"])[:3],
        "spend_share_of_ceiling_p50": _pct(
            sorted(o["usd"] / o["limits"]["max_usd"] for o in outcomes if o["limits"]["max_usd"]), 50
        ),
    }


async def bench_overhead(components: Components, fake: "Fake", runs: int, rng: random.Random) -> dict:
    _respond_plausibly(fake, rng)
    per_node: dict[str, list[float]] = {}
    for i in range(runs):
        async with _engine(components, fake) as research:
            result = await research.run(
                ResearchRequest(question=QUESTIONS[i % len(QUESTIONS)], budget=Limits(max_seconds=30, max_usd=1.0))
            )
        for span in result.trace:
            per_node.setdefault(span.node, []).append(span.overhead_ms)
    everything = sorted(ms for values in per_node.values() for ms in values)
    table = {
        node: {"spans": len(v), "p50_ms": _pct(sorted(v), 50), "p95_ms": _pct(sorted(v), 95)}
        for node, v in per_node.items()
    }
    return {
        "runs": runs,
        "by_node": table,
        "all_nodes": {"p50_ms": _pct(everything, 50), "p95_ms": _pct(everything, 95)},
    }


async def bench_rerank(components: Components, fake: "Fake", runs: int, rng: random.Random) -> dict:
    _respond_plausibly(fake, rng)
    configs = {
        "cheap rerank 30 → 5, then premium": dict(llm_rerank=True),
        "all 30 candidates to premium": dict(llm_rerank=False, keep_per_query=30, evidence_tokens=200_000),
    }
    out = {}
    for label, options in configs.items():
        usd, synth_in = [], []
        for i in range(runs):
            async with _engine(components, fake, **options) as research:
                answer = (
                    await research.run(
                        ResearchRequest(
                            question=QUESTIONS[i % len(QUESTIONS)],
                            budget=Limits(max_seconds=30, max_usd=5.0, max_hops=1),
                        )
                    )
                ).answer
            usd.append(answer.spend.usd)
            synth_in.append(
                answer.spend.by_node["synthesize"].input_tokens if "synthesize" in answer.spend.by_node else 0
            )
        out[label] = {"usd_per_question": statistics.mean(usd), "synthesis_input_tokens": statistics.mean(synth_in)}
    cheap, full = (out[label]["usd_per_question"] for label in configs)
    out["saved_share"] = 1 - cheap / full if full else 0.0
    return out


Fake = FakeAnthropic | FakeOpenAI


def _respond_plausibly(fake: Fake, rng: random.Random) -> None:
    if isinstance(fake, FakeOpenAI):
        fake.responder = lambda body: openai_server.from_messages_reply(plausible_reply(body, rng))
    else:
        fake.responder = lambda body: plausible_reply(body, rng)


def _engine(
    components: Components,
    fake: Fake,
    *,
    llm_rerank: bool = False,
    cheap: str | None = None,
    premium: str | None = None,
    **config,
) -> Engine:
    """Claude's two tiers on the fake Messages API, or (--provider openai) the given models, by default
    gpt-test-mini and gpt-test, on the fake OpenAI-compatible API."""
    backoff = {"backoff_base_s": 0.05, "backoff_cap_s": 0.2}
    if isinstance(fake, FakeOpenAI):
        models = {"cheap": cheap or "gpt-test-mini", "premium": premium or "gpt-test"}
        return openai_engine(components, fake, llm_rerank=llm_rerank, **models, **backoff, **config)
    return claude_engine(components, fake, llm_rerank=llm_rerank, **backoff, **config)


def _components() -> Components:
    overrides = (
        {} if os.environ.get("QUARRY_DATABASE_URL") else {"storage.data_dir": tempfile.mkdtemp(prefix="quarry-bench-")}
    )
    settings = load_settings(overrides={**overrides, "database.schema_name": "bench_budget", "database.pool_max": 12})
    return Components(settings, environ={})


def _pct(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    index = min(len(values) - 1, max(0, round(q / 100 * (len(values) - 1))))
    return round(values[index], 3)


def report(results: dict) -> None:
    c = results["ceilings"]
    provider = results.get("provider", "claude")
    print(f"\n### A. Ceilings over {c['runs']} randomized runs (provider {provider}, concurrency {c['concurrency']})\n")
    print("| max_usd violations | max_tokens violations | max_hops violations | overshoot p50 | p99 | max |")
    print("|---|---|---|---|---|---|")
    v, o = c["violations"], c["overshoot_ms"]
    print(f"| {v['usd']} | {v['tokens']} | {v['hops']} | {o['p50']:.1f} ms | {o['p99']:.1f} ms | {o['max']:.1f} ms |")
    print(
        f"\nstopped by: {c['stopped_by']}; median spend as share of the dollar ceiling: {c['spend_share_of_ceiling_p50']:.2f}"
    )
    h = results.get("overhead")
    if h is None:
        print("\n### B. Graph overhead: skipped (--skip-overhead)")
    else:
        _report_overhead(h)
    _report_rerank(results["rerank"])


def _report_overhead(h: dict) -> None:
    print(f"\n### B. Graph overhead per node, excluding model and retrieval time ({h['runs']} runs)\n")
    print("| node | spans | p50 | p95 |\n|---|---|---|---|")
    for node, row in h["by_node"].items():
        print(f"| {node} | {row['spans']} | {row['p50_ms']:.2f} ms | {row['p95_ms']:.2f} ms |")
    print(f"| all nodes | | {h['all_nodes']['p50_ms']:.2f} ms | {h['all_nodes']['p95_ms']:.2f} ms |")


def _report_rerank(r: dict) -> None:
    print("\n### C. Cheap-tier reranking before the premium model\n")
    print("| configuration | $ per question | synthesis input tokens |\n|---|---|---|")
    for label, row in r.items():
        if isinstance(row, dict):
            print(f"| {label} | ${row['usd_per_question']:.5f} | {row['synthesis_input_tokens']:.0f} |")
    print(f"\ncost saved by the cheap reranker: {r['saved_share']:.0%}")


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


if __name__ == "__main__":
    sys.exit(main())
