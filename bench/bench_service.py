"""Benchmark: what the HTTP service adds, and whether it holds up under concurrent event streams.

Run: `python -m bench.bench_service [--overhead-rounds 5] [--clients 64] [--duration 300]
[--cold-runs 3] [--skip overhead,load,cold] [--out FILE]`. Prints Markdown tables, writes JSON
(default bench/out/bench_service.json); exits 1 when the load phase saw an error, a budget
violation or a cross-principal leak.

Setup: a fresh embedded PostgreSQL in a temporary folder, the bundled sample corpus ingested, API
keys for a reader (public) and an insider (public, security, leadership, sre), and a real
`quarry serve` process on loopback (offline models, semantic cache off so every question is
researched). The machine is shared: every figure comes with its baseline from the same run.

1. Overhead. The 12 questions of examples/questions.jsonl, --overhead-rounds times each, through
   POST /v1/ask (JSON). The server reports the engine's share of each response in a Server-Timing
   header; the HTTP path's added latency is the client's wall time minus it, paired per request
   (auth lookup, validation, JSON, loopback, the client). Reported: p50/p90 with a bootstrap 95% CI
   of the p50, beside the in-process engine's own time for the same questions (the baseline:
   `Engine.run` in this process, same corpus). Goal: p50 ≤ 5 ms.
2. Load. --clients concurrent SSE clients (half reader keys, half insider keys, each its own
   principal) asking questions back to back for --duration seconds: readers ask the leak probe's
   questions (tests/support/leak_probe.py), whose secret phrases live only in restricted documents.
   Counted: answers, errors (HTTP errors, `event: error`, a stream without an answer), budget
   violations (spend, tokens or hops over the request's limits), leaks (a secret phrase in anything a
   reader's stream carried), the server's RSS every 5 s and its slope over the second half.
3. Cold start. `quarry search "settlement outage"` in a fresh process: through QUARRY_URL, and
   in-process (same corpus), median wall and peak RSS of --cold-runs runs; `python -c pass` as the
   floor of any Python command on this machine.
"""

import argparse
import asyncio
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from tests.support.cli_env import quarry_env
from tests.support.leak_probe import INSIDER, READER, SAMPLE_PROBES

REPO = Path(__file__).resolve().parents[1]
LIMITS = {"max_seconds": 30.0, "max_hops": 3, "max_tokens": 50_000, "max_usd": 0.25}


def _questions() -> list[str]:
    lines = (REPO / "examples" / "questions.jsonl").read_text().splitlines()
    return [json.loads(line)["question"] for line in lines if line.strip()]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def _bootstrap_p50(values: list[float], rounds: int = 2000) -> tuple[float, float]:
    rng = random.Random(7)
    medians = sorted(statistics.median(rng.choices(values, k=len(values))) for _ in range(rounds))
    return medians[int(0.025 * rounds)], medians[int(0.975 * rounds)]


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


@dataclass
class Stack:
    """The temporary corpus, keys and `quarry serve` process the phases share."""

    home: Path
    env: dict[str, str]
    url: str = ""
    reader_keys: list[str] = field(default_factory=list)
    insider_keys: list[str] = field(default_factory=list)
    server: "subprocess.Popen[bytes] | None" = None

    def quarry(self, *args: str, env: dict[str, str] | None = None) -> "subprocess.CompletedProcess[str]":
        return subprocess.run(
            [sys.executable, "-m", "quarry.agent.cli.main", *args],
            env=env or self.env,
            cwd=self.home,
            capture_output=True,
            text=True,
            check=False,
        )

    def key(self, principal: str, groups: tuple[str, ...]) -> str:
        made = self.quarry("keys", "create", "--principal", principal, "--groups", ",".join(groups), "--json")
        if made.returncode:
            raise SystemExit(made.stderr)
        return str(json.loads(made.stdout)["key"])

    def start(self, clients: int) -> None:
        ingested = self.quarry("ingest", str(REPO / "examples" / "corpus"), "--quiet")
        if ingested.returncode:
            raise SystemExit(ingested.stderr)
        half = max(1, clients // 2)
        self.reader_keys = [self.key(f"{READER.id}-{i}", READER.groups) for i in range(half)]
        self.insider_keys = [self.key(f"{INSIDER.id}-{i}", INSIDER.groups) for i in range(max(1, clients - half))]
        port = _free_port()
        self.url = f"http://127.0.0.1:{port}"
        log = open(self.home / "serve.log", "wb")  # noqa: SIM115 (the server writes to it until stop())
        self.server = subprocess.Popen(
            [sys.executable, "-m", "quarry.agent.cli.main", "serve", "--port", str(port)],
            env=self.env,
            cwd=self.home,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        give_up = time.monotonic() + 300
        while time.monotonic() < give_up:
            try:
                if httpx.get(self.url + "/readyz", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if self.server.poll() is not None:
                raise SystemExit((self.home / "serve.log").read_text())
            time.sleep(0.5)
        raise SystemExit("quarry serve did not become ready in 300 s")

    def stop(self) -> None:
        if self.server is not None and self.server.poll() is None:
            self.server.terminate()
            self.server.wait(timeout=120)


# -- 1. overhead ---------------------------------------------------------------------------------


def overhead(stack: Stack, rounds: int) -> dict[str, Any]:
    questions = _questions()
    added: list[float] = []
    http_ms: list[float] = []
    engine_ms: list[float] = []
    with httpx.Client(base_url=stack.url, headers={"Authorization": f"Bearer {stack.reader_keys[0]}"}) as client:
        client.post("/v1/ask", json={"question": questions[0]})  # warm: connection, caches
        for _ in range(rounds):
            for question in questions:
                began = time.perf_counter()
                response = client.post("/v1/ask", json={"question": question, "budget": LIMITS}, timeout=120)
                wall = (time.perf_counter() - began) * 1000
                response.raise_for_status()
                engine = float(response.headers["server-timing"].split("dur=")[1])
                http_ms.append(wall)
                engine_ms.append(engine)
                added.append(wall - engine)
        floor = {path: _round_trips(client, path) for path in ("/healthz", "/v1/me")}
    in_process = _in_process_engine_ms(stack, questions, rounds)
    low, high = _bootstrap_p50(added)
    return {
        "requests": len(added),
        "added_ms": {"p50": statistics.median(added), "p50_ci95": [low, high], "p90": _percentile(added, 0.9)},
        "http_wall_ms": {"p50": statistics.median(http_ms), "p90": _percentile(http_ms, 0.9)},
        "server_engine_ms": {"p50": statistics.median(engine_ms), "p90": _percentile(engine_ms, 0.9)},
        "in_process_engine_ms": {"p50": statistics.median(in_process), "p90": _percentile(in_process, 0.9)},
        "round_trip_ms": {
            path: {"p50": statistics.median(xs), "p90": _percentile(xs, 0.9)} for path, xs in floor.items()
        },
    }


def _round_trips(client: httpx.Client, path: str, count: int = 300) -> list[float]:
    """Wall times of a request that does no work (/healthz) or only authenticates (/v1/me): the floor of
    any request on this machine, and what the key lookup adds to it."""
    times = []
    for _ in range(count):
        began = time.perf_counter()
        client.get(path).raise_for_status()
        times.append((time.perf_counter() - began) * 1000)
    return times


def _in_process_engine_ms(stack: Stack, questions: list[str], rounds: int) -> list[float]:
    """The same questions through `Engine.run` in this process (the baseline without HTTP)."""
    script = f"""
import asyncio, json, time
from quarry.agent.components import Components
from quarry.agent.settings import load_settings
from quarry.corpus.filters import Principal
from quarry.graph.budget.limits import Limits
from quarry.graph.engine import ResearchRequest
questions = json.loads({json.dumps(json.dumps(questions))})
with Components(load_settings()) as parts:
    engine = parts.engine
    async def main():
        times = []
        await engine.run(ResearchRequest(question=questions[0]))
        for _ in range({rounds}):
            for q in questions:
                began = time.perf_counter()
                await engine.run(ResearchRequest(question=q, budget=Limits(**{LIMITS!r}), principal=Principal(id="bench")))
                times.append((time.perf_counter() - began) * 1000)
        await engine.aclose()
        return times
    print(json.dumps(asyncio.run(main())))
"""
    done = subprocess.run(
        [sys.executable, "-c", script], env=stack.env, cwd=stack.home, capture_output=True, text=True, check=True
    )
    return [float(x) for x in json.loads(done.stdout.strip().splitlines()[-1])]


# -- 2. load -------------------------------------------------------------------------------------


@dataclass
class LoadCounts:
    answers: int = 0
    errors: int = 0
    violations: int = 0
    leaks: int = 0
    error_examples: list[str] = field(default_factory=list)
    leak_examples: list[str] = field(default_factory=list)
    violation_examples: list[str] = field(default_factory=list)
    model_errors: int = 0
    """Answers stopped by "error" (a model failed for good): reported beside the violations."""
    latencies_ms: list[float] = field(default_factory=list)


async def _client(url: str, key: str, questions: list[str], reader: bool, until: float, counts: LoadCounts) -> None:
    secrets = [s.lower() for probe in SAMPLE_PROBES for s in probe.secrets]
    headers = {"Authorization": f"Bearer {key}", "Accept": "text/event-stream"}
    rng = random.Random(key)
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=httpx.Timeout(30, read=120)) as client:
        while time.monotonic() < until:
            question = rng.choice(questions)
            began = time.perf_counter()
            try:
                async with client.stream("POST", "/v1/ask", json={"question": question, "budget": LIMITS}) as r:
                    if r.status_code != 200:
                        await r.aread()
                        raise RuntimeError(f"HTTP {r.status_code}: {r.text[:200]}")
                    text = "".join([chunk async for chunk in r.aiter_text()])
            except (httpx.HTTPError, RuntimeError) as exc:
                counts.errors += 1
                counts.error_examples = [*counts.error_examples[:4], repr(exc)[:200]]
                continue
            counts.latencies_ms.append((time.perf_counter() - began) * 1000)
            answer = _answer_in(text)
            if answer is None or "event: error" in text:
                counts.errors += 1
                counts.error_examples = [*counts.error_examples[:4], text[-300:]]
                continue
            counts.answers += 1
            spend = answer["spend"]
            if (
                spend["usd"] > LIMITS["max_usd"] + 1e-12
                or spend["input_tokens"] + spend["output_tokens"] > LIMITS["max_tokens"]
                or answer["hops"] > LIMITS["max_hops"]
            ):
                counts.violations += 1
                counts.violation_examples = [
                    *counts.violation_examples[:4],
                    json.dumps(spend) + f" hops={answer['hops']}",
                ]
            if answer["stopped_by"] == "error":
                counts.model_errors += 1
                counts.error_examples = [*counts.error_examples[:4], answer["stop_detail"][:200]]
            if reader and any(s in text.lower() for s in secrets):
                counts.leaks += 1
                counts.leak_examples = [*counts.leak_examples[:4], question]


def _answer_in(text: str) -> dict[str, Any] | None:
    blocks = [b for b in text.split("\n\n") if b.startswith("event: answer")]
    if len(blocks) != 1:
        return None
    data = "\n".join(line[6:] for line in blocks[0].splitlines() if line.startswith("data: "))
    return dict(json.loads(data))


async def _load(stack: Stack, duration: float, rss: list[tuple[float, float]]) -> LoadCounts:
    counts = LoadCounts()
    probe_questions = [q for p in SAMPLE_PROBES for q in (p.question, p.paraphrase)]
    insider_questions = [*probe_questions, *_questions()]
    until = time.monotonic() + duration
    t0 = time.monotonic()
    assert stack.server is not None
    pid = stack.server.pid

    async def sample() -> None:
        while time.monotonic() < until:
            rss.append((round(time.monotonic() - t0, 1), round(_rss_mb(pid), 1)))
            await asyncio.sleep(5)
        rss.append((round(time.monotonic() - t0, 1), round(_rss_mb(pid), 1)))

    tasks = [_client(stack.url, key, probe_questions, True, until, counts) for key in stack.reader_keys]
    tasks += [_client(stack.url, key, insider_questions, False, until, counts) for key in stack.insider_keys]
    await asyncio.gather(sample(), *tasks)
    return counts


def load(stack: Stack, clients: int, duration: float) -> dict[str, Any]:
    rss: list[tuple[float, float]] = []
    began = time.monotonic()
    counts = asyncio.run(_load(stack, duration, rss))
    wall = time.monotonic() - began
    second_half = [(t, mb) for t, mb in rss if t >= duration / 2]
    slope = 0.0
    if len(second_half) >= 2:
        ts, mbs = zip(*second_half)
        slope = statistics.linear_regression(ts, mbs).slope * 60
    lat = counts.latencies_ms or [0.0]
    return {
        "clients": clients,
        "duration_s": round(wall, 1),
        "answers": counts.answers,
        "answers_per_s": round(counts.answers / wall, 2),
        "errors": counts.errors,
        "budget_violations": counts.violations,
        "leaks": counts.leaks,
        "latency_ms": {"p50": statistics.median(lat), "p90": _percentile(lat, 0.9), "max": max(lat)},
        "server_rss_mb": {"start": rss[0][1], "peak": max(mb for _, mb in rss), "end": rss[-1][1]},
        "rss_slope_mb_per_min_second_half": round(slope, 3),
        "rss_samples": rss,
        "error_examples": counts.error_examples,
        "leak_examples": counts.leak_examples,
        "violation_examples": counts.violation_examples,
        "stopped_by_error": counts.model_errors,
    }


# -- 3. cold start -------------------------------------------------------------------------------


def cold_start(stack: Stack, runs: int) -> dict[str, Any]:
    quarry = [sys.executable, "-m", "quarry.agent.cli.main", "search", "settlement outage"]
    remote_env = {**stack.env, "QUARRY_URL": stack.url, "QUARRY_API_KEY": stack.reader_keys[0]}
    rows: dict[str, Any] = {}
    for name, command, env in (
        ("python -c pass (floor)", [sys.executable, "-c", "pass"], stack.env),
        ("quarry search via QUARRY_URL", quarry, remote_env),
        ("quarry search in-process", quarry, stack.env),
    ):
        walls, peaks = [], []
        for _ in range(runs):
            wrapped = [sys.executable, "-c", _MEASURE, *command]
            out = subprocess.run(wrapped, env=env, cwd=stack.home, capture_output=True, text=True, check=True)
            wall, peak, code = json.loads(out.stdout.strip().splitlines()[-1])
            if code:
                raise SystemExit(f"{name} failed ({code})")
            walls.append(wall)
            peaks.append(peak)
        rows[name] = {
            "median_wall_s": statistics.median(walls),
            "walls_s": walls,
            "median_peak_rss_mb": statistics.median(peaks),
        }
    return rows


_MEASURE = """
import json, resource, subprocess, sys, time
began = time.perf_counter()
code = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode
wall = time.perf_counter() - began
print(json.dumps([wall, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, code]))
"""


# -- report --------------------------------------------------------------------------------------


def _print(report: dict[str, Any]) -> None:
    if "overhead" in report:
        o = report["overhead"]
        print(f"\n### Added latency of the HTTP path ({o['requests']} requests, POST /v1/ask JSON)\n")
        print("| measure | p50 ms | p90 ms |")
        print("|---|---:|---:|")
        low, high = o["added_ms"]["p50_ci95"]
        print(
            f"| added by HTTP (client wall − server engine time) | {o['added_ms']['p50']:.2f} (95% CI {low:.2f}–{high:.2f}) | {o['added_ms']['p90']:.2f} |"
        )
        print(f"| client wall time | {o['http_wall_ms']['p50']:.1f} | {o['http_wall_ms']['p90']:.1f} |")
        print(
            f"| engine time in the server | {o['server_engine_ms']['p50']:.1f} | {o['server_engine_ms']['p90']:.1f} |"
        )
        print(
            f"| baseline: Engine.run in-process | {o['in_process_engine_ms']['p50']:.1f} | {o['in_process_engine_ms']['p90']:.1f} |"
        )
        for path, row in o["round_trip_ms"].items():
            print(f"| floor: GET {path} round trip (300 requests) | {row['p50']:.2f} | {row['p90']:.2f} |")
    if "load" in report:
        x = report["load"]
        print(f"\n### {x['clients']} concurrent SSE clients for {x['duration_s']} s\n")
        print(
            "| answers | answers/s | errors | budget violations | leaks | p50 ms | p90 ms | server RSS start/peak/end MB | RSS slope (2nd half) MB/min |"
        )
        print("|---:|---:|---:|---:|---:|---:|---:|---|---:|")
        r = x["server_rss_mb"]
        print(
            f"| {x['answers']} | {x['answers_per_s']} | {x['errors']} | {x['budget_violations']} | {x['leaks']} | "
            f"{x['latency_ms']['p50']:.0f} | {x['latency_ms']['p90']:.0f} | {r['start']}/{r['peak']}/{r['end']} | "
            f"{x['rss_slope_mb_per_min_second_half']} |"
        )
    if "cold_start" in report:
        print('\n### Cold start: `quarry search "settlement outage"` in a fresh process\n')
        print("| command | median wall s | runs (s) | median peak RSS MB |")
        print("|---|---:|---|---:|")
        for name, row in report["cold_start"].items():
            runs = ", ".join(f"{w:.2f}" for w in row["walls_s"])
            print(f"| {name} | {row['median_wall_s']:.2f} | {runs} | {row['median_peak_rss_mb']:.0f} |")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--overhead-rounds", type=int, default=5)
    parser.add_argument("--clients", type=int, default=64)
    parser.add_argument("--duration", type=float, default=300.0, help="seconds of load (goal: 300)")
    parser.add_argument("--cold-runs", type=int, default=3)
    parser.add_argument("--skip", default="", help="comma-separated phases to skip: overhead,load,cold")
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "out" / "bench_service.json")
    args = parser.parse_args(argv)
    skip = set(filter(None, args.skip.split(",")))
    with tempfile.TemporaryDirectory(prefix="quarry-bench-service-") as tmp:
        home = Path(tmp)
        env = quarry_env(QUARRY_DATA_DIR=str(home / "data"), QUARRY_CACHE__ENABLED="false", QUARRY_PROVIDER="offline")
        env.pop("ANTHROPIC_API_KEY", None)
        stack = Stack(home=home, env=env)
        report: dict[str, Any] = {"machine": {"cpus": os.cpu_count(), "load_avg": os.getloadavg()}}
        try:
            stack.start(args.clients)
            if "overhead" not in skip:
                report["overhead"] = overhead(stack, args.overhead_rounds)
            if "load" not in skip:
                report["load"] = load(stack, args.clients, args.duration)
            if "cold" not in skip:
                report["cold_start"] = cold_start(stack, args.cold_runs)
        finally:
            stack.stop()
        report["machine"]["load_avg_end"] = os.getloadavg()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2))
    _print(report)
    failed = "load" in report and (
        report["load"]["errors"] or report["load"]["budget_violations"] or report["load"]["leaks"]
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
