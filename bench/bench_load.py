"""Benchmark: does Quarry hold up under N concurrent chat sessions, and does memory stay flat?

Run: `python -m bench.bench_load [--sessions 8,32,64] [--modes offline,claude] [--turns 3] [--soak 600]
[--quick] [--out FILE]`. Prints Markdown tables, writes JSON (default bench/out/bench_load.json);
exits 1 when any run failed, broke its budget, or disagrees with the ledger.

One Assistant per model mode over the bundled sample corpus: real PostgreSQL (embedded unless
--database-url), real retrieval, the semantic cache off so every question is researched. "offline"
is the extractive model; "claude" is the real anthropic SDK against the test suite's fake Messages
API on loopback, each reply delayed 50–200 ms (--latency-ms) to stand for the network.

Sessions are `Session.aask` coroutines gathered on one caller loop, so every run executes on the
Assistant's own loop (agent/loop.py), as in an async server sharing one Assistant. Each session asks
--turns questions in order (follow-ups among them), each under the same per-question Limits.

Per (mode, N): questions, wall time, throughput, latency per question as the caller sees it, budget
stops, errors (exceptions, stopped_by "error"), violations (runs whose spend, tokens or hops passed
their limits, or whose elapsed time passed max_seconds by over 100 ms, bench/bench_budget's goal;
checked on each answer and on its ledger row), late returns (the caller got the answer over 100 ms
past max_seconds: reported, not failed), ledger mismatches (a run row missing, not closed, or not
equal to its answer; dollars by principal not equal to the answers') and peak RSS.
--soak SECONDS: --soak-sessions sessions back to back for that long, memory sampled every 5 s, the
growth slope over the second half, and a verdict (see FLAT_MB_PER_MIN).
"""

import argparse
import asyncio
import itertools
import json
import os
import platform
import random
import resource
import sys
import tempfile
import time
import uuid
from array import array
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from bench.memory_sampler import MemorySampler, slope_mb_per_minute
from quarry.agent.assistant import Assistant
from quarry.corpus.filters import Principal
from quarry.graph.answer import Answer
from quarry.graph.budget.limits import Limits
from tests.support.fakes.anthropic_server import FakeAnthropic, Script
from tests.support.fakes.research_replies import plausible_reply

REPO = Path(__file__).resolve().parents[1]
MODES = ("offline", "claude")
BUDGET_STOPS = ("deadline", "tokens", "cost", "hops", "account")
OVERSHOOT_TOLERANCE_S = 0.100
FLAT_MB_PER_MIN = 0.5
"""Soak verdict: anonymous memory (heap, not mapped files) growing by at most this over the second
half is flat. A steady process drifts by ~0.1-0.2 MB/min as allocator arenas settle (measured: 10
min offline, 8 sessions); at the soak's ~1,000 questions a minute, 0.5 MB/min is ~0.5 KB kept per
question, less than one retained Answer with its citations, so any per-run leak of substance shows.
RSS is reported but not judged: it counts file-backed pages (libtorch's code, the model's weights)
that the kernel drops and re-reads when other processes need memory (seen: -115 MB at once)."""
# (question, the follow-up asked right after it, if any): the demo's and the tests' questions and more like them.
QUESTIONS: tuple[tuple[str, str | None], ...] = (
    ("Who leads the team that owns the service that failed in the March 2024 settlement outage?", None),
    ("Which team owns Ledgerline?", "And who leads it?"),
    ("What triggered the March 2024 settlement outage?", "How long did it last?"),
    ("Who leads the team that owns the database whose failover triggered the March 2024 settlement outage?", None),
    ("Which streaming platform replaced Apache Kafka for Beacon, and which ADR decided it?", None),
    ("Who should be paged if Beacon lag passes 30 minutes, and which team does that person lead?", None),
    ("Which tool was built after the Harbor Gate certificate expired, and who leads the team that owns it?", None),
    ("How long are Ledgerline settlement files kept?", None),
    ("Where is the team that owns Tidewater based?", None),
    ("How long did Keel writes fail in the October 2024 Oregon incident, and who leads the owning team?", None),
    ("Which vendor supplies the hardware security modules for Ledgerline's signing keys?", None),  # restricted
    ("What rate limit does Harbor Gate apply per customer?", None),
    ("Which team owns Beacon?", "Who leads it?"),
    ("How long does Lantern keep traces?", None),
    ("What caused the July 2024 Beacon consumer lag in Singapore?", None),
    ("How often does Tidewater retrain, and on what data?", None),
    ("Why did Tidewater under-forecast volumes in Portugal in November 2023?", None),
    ("How long does a Keel failover take?", "Which team owns Keel?"),
    ("Who is the second line of on-call for every service?", None),
    ("What does Certwarden do?", "Which team owns it?"),
)


@dataclass(frozen=True)
class Outcome:
    """One question of one session, as the caller saw it."""

    limits: Limits
    latency_s: float
    answer: Answer | None = None
    error: str = ""


@dataclass
class Tally:
    """Counts over outcomes without keeping them: the soak must not grow by its own bookkeeping."""

    questions: int = 0
    errors: int = 0
    late: int = 0
    """Answers the caller got more than the tolerance after max_seconds (the ledger writes and the
    session's turn row come after the run's own clock stops)."""
    usd: float = 0.0
    stops: Counter[str] = field(default_factory=Counter)
    latencies: array = field(default_factory=lambda: array("d"))
    violating: set[str] = field(default_factory=set)
    """Ids of runs over a limit."""
    examples: list[str] = field(default_factory=list)

    def add(self, outcome: Outcome) -> None:
        self.questions += 1
        self.latencies.append(outcome.latency_s)
        answer = outcome.answer
        problem = outcome.error or (
            f"stopped_by error: {answer.stop_detail}" if answer and answer.stopped_by == "error" else ""
        )
        if problem or answer is None:
            self.errors += 1
            self._example(problem)
            return
        self.usd += answer.spend.usd
        self.stops[answer.stopped_by or "complete"] += 1
        self.late += outcome.latency_s > outcome.limits.max_seconds + OVERSHOOT_TOLERANCE_S
        if broken := over_limits(outcome.limits, answer.spend.usd, answer.spend.tokens, answer.hops, answer.elapsed_s):
            self.violating.add(answer.run_id)
            self._example(f"run {answer.run_id}: {', '.join(broken)}")

    def _example(self, text: str) -> None:
        if len(self.examples) < 5:
            self.examples.append(text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.bench_load", description=__doc__.split("\n\n")[0])
    parser.add_argument("--sessions", type=_ints, help="concurrent sessions per row (default 8,32,64)")
    parser.add_argument("--modes", type=_modes, default=MODES, help="offline, claude or both (default both)")
    parser.add_argument("--turns", type=int, help="questions per session, in sequence (default 3)")
    parser.add_argument("--max-seconds", type=float, default=120.0, help="each question's deadline (default 120)")
    parser.add_argument("--max-hops", type=int, default=3)
    parser.add_argument(
        "--latency-ms", type=_ints, default=(50, 200), help="fake Claude reply delay range (default 50,200)"
    )
    parser.add_argument(
        "--cache-row", action="store_true", help="also a row per mode at the largest N with the cache on"
    )
    parser.add_argument(
        "--soak", type=float, default=0.0, metavar="SECONDS", help="then soak this long (600: 10 minutes)"
    )
    parser.add_argument("--soak-sessions", type=int, default=8)
    parser.add_argument("--soak-only", action="store_true", help="skip the load rows")
    parser.add_argument("--sample-every", type=float, default=5.0, help="soak memory sampling interval, seconds")
    parser.add_argument("--quick", action="store_true", help="smoke run: sessions 2,4 and one turn unless given")
    parser.add_argument("--data-dir", type=Path, help="default: a new temporary folder")
    parser.add_argument(
        "--database-url", default=os.environ.get("QUARRY_DATABASE_URL"), help="default: embedded PostgreSQL"
    )
    parser.add_argument("--schema", default="bench_load")
    parser.add_argument("--pool-max", type=int, help="database.pool_max (default: config.yaml's)")
    parser.add_argument("--seed", type=int, default=20261124)
    parser.add_argument("--out", type=Path, default=Path("bench/out/bench_load.json"))
    args = parser.parse_args(argv)
    args.sessions = args.sessions or ((2, 4) if args.quick else (8, 32, 64))
    args.turns = args.turns or (1 if args.quick else 3)
    if 0 in args.sessions or args.turns < 1 or args.soak_sessions < 1:
        parser.error("--sessions, --turns and --soak-sessions must be at least 1")
    limits = Limits(max_seconds=args.max_seconds, max_hops=args.max_hops, max_tokens=50_000, max_usd=0.25)
    tag = uuid.uuid4().hex[:6]  # in every principal id: the ledger checks see this invocation's runs only
    data_dir = args.data_dir or Path(tempfile.mkdtemp(prefix="quarry-bench-load-"))
    fake = FakeAnthropic().start() if "claude" in args.modes else None
    if fake is not None:
        fake.responder = _responder(fake, random.Random(args.seed), args.latency_ms)
    results: dict = {
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version()},
        "config": {
            "modes": list(args.modes),
            "sessions": list(args.sessions),
            "turns": args.turns,
            "limits": limits.model_dump(),
            "latency_ms": list(args.latency_ms),
            "pool_max": args.pool_max,
            "concurrency": "Session.aask coroutines on one caller loop; the runs on the Assistant's loop",
        },
        "load": [],
        "soak": [],
    }
    try:
        for mode in args.modes:
            with _open(args, mode, data_dir, fake) as assistant:
                _prepare(assistant, mode)
                for n in () if args.soak_only else args.sessions:
                    say(f"{mode}: {n} sessions × {args.turns} turns…")
                    results["load"].append(asyncio.run(load_row(assistant, mode, n, args.turns, limits, tag)))
                if args.soak:
                    say(f"{mode}: soak, {args.soak_sessions} sessions for {args.soak:g} s…")
                    results["soak"].append(
                        asyncio.run(
                            soak(
                                assistant,
                                mode,
                                args.soak_sessions,
                                args.turns,
                                limits,
                                args.soak,
                                args.sample_every,
                                tag,
                            )
                        )
                    )
            if args.cache_row and not args.soak_only:
                with _open(args, mode, data_dir, fake, cache=True) as assistant:
                    _prepare(assistant, mode)
                    assistant.components.cache.clear()
                    say(f"{mode}: {max(args.sessions)} sessions × {args.turns} turns, cache on…")
                    results["load"].append(
                        asyncio.run(load_row(assistant, f"{mode}+cache", max(args.sessions), args.turns, limits, tag))
                    )
    finally:
        if fake is not None:
            fake.stop()
    results["peak_rss_mb_process"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    report(results)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    say(f"wrote {args.out}")
    return (
        1
        if any(r["errors"] or r["violations"] or r["ledger_mismatches"] for r in results["load"] + results["soak"])
        else 0
    )


async def load_row(assistant: Assistant, mode: str, sessions: int, turns: int, limits: Limits, tag: str) -> dict:
    """N sessions at once, each asking its `turns` questions in order; then the ledger is checked."""
    principals = [Principal(id=f"{tag}-{mode}-n{sessions}-u{i}", groups=("public",)) for i in range(sessions)]
    sampler = MemorySampler(0.25).start()
    started = time.perf_counter()
    outcomes = [
        o
        for per_session in await asyncio.gather(
            *(converse(assistant, principal, conversation(i, turns), limits) for i, principal in enumerate(principals))
        )
        for o in per_session
    ]
    wall = time.perf_counter() - started
    sampler.stop()
    tally = Tally()
    for outcome in outcomes:
        tally.add(outcome)
    answered = {o.answer.run_id: (o.answer, o.limits) for o in outcomes if o.answer is not None and not o.error}
    mismatches, ledger_violations = await asyncio.to_thread(check_ledger, assistant, answered, principals)
    row = _row(mode, sessions, tally, wall, sampler, mismatches, ledger_violations)
    say(f"  {row['questions']} questions in {wall:.1f} s; errors {row['errors']}, violations {row['violations']}")
    return row


async def soak(
    assistant: Assistant,
    mode: str,
    sessions: int,
    turns: int,
    limits: Limits,
    seconds: float,
    every: float,
    tag: str,
) -> dict:
    """`sessions` workers, each starting a new session as soon as its last one has asked its turns."""
    await load_row(assistant, f"{mode}-warmup", sessions, 1, limits, tag)  # first-use costs out of the baseline
    sampler = MemorySampler(every).start()
    tally, started, stop_at = Tally(), time.perf_counter(), time.monotonic() + seconds
    principals = [Principal(id=f"{tag}-soak-{mode}-w{w}", groups=("public",)) for w in range(sessions)]
    reported = [time.monotonic()]

    async def worker(w: int) -> None:
        for k in itertools.count():
            if time.monotonic() >= stop_at:
                return
            for outcome in await converse(
                assistant, principals[w], conversation(w + k, turns), limits, stop_at=stop_at
            ):
                tally.add(outcome)
            if time.monotonic() - reported[0] > 60:
                reported[0] = time.monotonic()
                _, rss, anon = sampler.samples[-1]
                say(
                    f"  soak: {tally.questions} questions, RSS {rss:.0f} MB (anonymous {anon:.0f}), errors {tally.errors}"
                )

    await asyncio.gather(*(worker(w) for w in range(sessions)))
    wall = time.perf_counter() - started
    sampler.stop()
    mismatches, ledger_violations = await asyncio.to_thread(check_soak_ledger, assistant, tally, limits, principals)
    row = _row(mode, sessions, tally, wall, sampler, mismatches, ledger_violations)
    samples = sampler.samples
    half = [s for s in samples if s[0] >= samples[-1][0] / 2]
    slope = slope_mb_per_minute([(t, anon) for t, _, anon in half])
    row.update(
        {
            "seconds": seconds,
            "rss_start_mb": samples[0][1],
            "rss_end_mb": samples[-1][1],
            "rss_max_mb": max(s[1] for s in samples),
            "anon_start_mb": samples[0][2],
            "anon_end_mb": samples[-1][2],
            "slope_mb_per_min": round(slope, 3),
            "rss_slope_mb_per_min": round(slope_mb_per_minute([(t, rss) for t, rss, _ in half]), 3),
            "kb_per_question": round(slope * 1024 / (60 * row["questions_per_s"]), 3)
            if row["questions_per_s"]
            else 0.0,
            "flat": slope <= FLAT_MB_PER_MIN,
            "threshold_mb_per_min": FLAT_MB_PER_MIN,
            "samples": samples,
        }
    )
    say(f"  soak done: {tally.questions} questions, anonymous memory {slope:+.2f} MB/min")
    return row


async def converse(
    assistant: Assistant,
    principal: Principal,
    questions: list[str],
    limits: Limits,
    *,
    stop_at: float | None = None,
) -> list[Outcome]:
    """One chat session asking `questions` in order; failures are outcomes, never exceptions."""
    n = len(questions)  # the session's ceiling is never what clamps a turn: each gets `limits`
    whole = Limits(
        max_seconds=min(86_400, limits.max_seconds * n + 1),
        max_hops=min(50, limits.max_hops * n),
        max_tokens=limits.max_tokens * n,
        max_usd=limits.max_usd * n,
    )
    try:
        session = await asyncio.to_thread(assistant.chat, principal=principal, budget=limits, session_budget=whole)
    except Exception as exc:
        return [Outcome(limits, 0.0, error=f"chat(): {type(exc).__name__}: {exc}") for _ in questions]
    outcomes = []
    for question in questions:
        if stop_at is not None and time.monotonic() >= stop_at:
            break
        granted = session.next_limits()
        started = time.perf_counter()
        try:
            answer = await session.aask(question)
        except Exception as exc:
            outcomes.append(Outcome(granted, time.perf_counter() - started, error=f"{type(exc).__name__}: {exc}"))
            continue
        outcomes.append(Outcome(granted, time.perf_counter() - started, answer))
    return outcomes


def conversation(i: int, turns: int) -> list[str]:
    """Session i's questions: from its own place in the list, each follow-up right after its question."""
    asked: list[str] = []
    j = i * 7 % len(QUESTIONS)
    while len(asked) < turns:
        question, follow_up = QUESTIONS[j]
        asked += [question, follow_up] if follow_up and len(asked) + 1 < turns else [question]
        j = (j + 1) % len(QUESTIONS)
    return asked


def over_limits(limits: Limits, usd: float, tokens: int, hops: int, elapsed_s: float) -> list[str]:
    """The limits a run's recorded spend passed (dollars to 1e-12, time beyond the tolerance)."""
    broken = []
    if usd > limits.max_usd + 1e-12:
        broken.append(f"usd {usd:.6f} > {limits.max_usd}")
    if tokens > limits.max_tokens:
        broken.append(f"tokens {tokens} > {limits.max_tokens}")
    if hops > limits.max_hops:
        broken.append(f"hops {hops} > {limits.max_hops}")
    if elapsed_s > limits.max_seconds + OVERSHOOT_TOLERANCE_S:
        broken.append(f"elapsed {elapsed_s:.3f} s > {limits.max_seconds} s")
    return broken


def check_ledger(
    assistant: Assistant,
    answered: dict[str, tuple[Answer, Limits]],
    principals: list[Principal],
) -> tuple[list[str], dict[str, str]]:
    """Each answer against its run row (present, closed, equal, within its limits), and the ledger's
    dollars by principal (`Assistant.spend`) against the answers'. Returns (mismatches, violations by run)."""
    rows = {r.id: r for r in assistant.runs(limit=len(answered) * 2 + 20, operator=True)}
    mismatches: list[str] = []
    violations: dict[str, str] = {}
    for run_id, (answer, limits) in answered.items():
        row = rows.get(run_id)
        if row is None:
            mismatches.append(f"run {run_id}: no ledger row")
            continue
        if (
            row.status not in ("complete", "partial")
            or (row.stopped_by, row.hops, row.tokens) != (answer.stopped_by, answer.hops, answer.spend.tokens)
            or abs(row.usd - answer.spend.usd) > 1e-9
        ):
            mismatches.append(
                f"run {run_id}: ledger {row.status}/{row.stopped_by}/{row.hops} hops/{row.tokens} tokens/${row.usd:.6f}, "
                f"answer {answer.stopped_by}/{answer.hops}/{answer.spend.tokens}/${answer.spend.usd:.6f}"
            )
        if broken := over_limits(limits, row.usd, row.tokens, row.hops, row.elapsed_ms / 1000):
            violations[run_id] = f"run {run_id} (ledger): {', '.join(broken)}"
    mismatches += _dollars_by_principal(assistant, principals, sum(a.spend.usd for a, _ in answered.values()))
    return mismatches, violations


def check_soak_ledger(
    assistant: Assistant, tally: Tally, limits: Limits, principals: list[Principal]
) -> tuple[list[str], dict[str, str]]:
    """The soak keeps no run ids: each run row of its principals must be closed and within `limits`."""
    ids = {p.id for p in principals}
    rows = [r for r in assistant.runs(limit=tally.questions + 200, operator=True) if r.principal_id in ids]
    mismatches = [f"run {r.id}: ledger status {r.status}" for r in rows if r.status not in ("complete", "partial")]
    if len(rows) < tally.questions - tally.errors:
        mismatches.append(f"{tally.questions - tally.errors} answers but {len(rows)} run rows")
    violations = {
        r.id: f"run {r.id} (ledger): {', '.join(b)}"
        for r in rows
        if (b := over_limits(limits, r.usd, r.tokens, r.hops, r.elapsed_ms / 1000))
    }
    return mismatches + _dollars_by_principal(assistant, principals, tally.usd), violations


def _dollars_by_principal(assistant: Assistant, principals: list[Principal], answered_usd: float) -> list[str]:
    ids = {p.id for p in principals}
    ledger_usd = sum(row.usd for row in assistant.spend("principal", operator=True) if row.key in ids)
    if abs(ledger_usd - answered_usd) > 1e-9 * len(ids):
        return [f"spend by principal: ledger ${ledger_usd:.6f}, answers ${answered_usd:.6f}"]
    return []


def _row(
    mode: str,
    sessions: int,
    tally: Tally,
    wall: float,
    sampler: "MemorySampler",
    mismatches: list[str],
    ledger_violations: dict[str, str],
) -> dict:
    latencies = sorted(tally.latencies)
    return {
        "mode": mode,
        "sessions": sessions,
        "questions": tally.questions,
        "wall_s": round(wall, 2),
        "questions_per_s": round(tally.questions / wall, 2) if wall else 0.0,
        "latency_s": {"p50": _pct(latencies, 50), "p95": _pct(latencies, 95), "max": _pct(latencies, 100)},
        "budget_stops": sum(tally.stops[r] for r in BUDGET_STOPS),
        "stopped_by": dict(tally.stops),
        "errors": tally.errors,
        "violations": len(tally.violating | ledger_violations.keys()),
        "late_returns": tally.late,
        "ledger_mismatches": len(mismatches),
        "usd": round(tally.usd, 6),
        "peak_rss_mb": max(rss for _, rss, _ in sampler.samples),
        "problems": tally.examples + list(ledger_violations.values())[:5] + mismatches[:5],
    }


def _open(
    args: argparse.Namespace, mode: str, data_dir: Path, fake: FakeAnthropic | None, *, cache: bool = False
) -> Assistant:
    overrides: dict = {"data_dir": str(data_dir), "database__schema_name": args.schema, "cache__enabled": cache}
    if args.database_url:
        overrides["database_url"] = args.database_url
    if args.pool_max:
        overrides["database__pool_max"] = args.pool_max
    if mode == "offline":
        return Assistant.from_config(REPO / "config.yaml", environ={}, provider="offline", **overrides)
    assert fake is not None
    return Assistant.from_config(
        REPO / "config.yaml",
        environ={"ANTHROPIC_API_KEY": "bench-key"},
        provider="claude",
        llm__base_url=fake.base_url,
        llm__backoff_base_s=0.05,
        llm__backoff_cap_s=0.2,
        **overrides,
    )


def _prepare(assistant: Assistant, mode: str) -> None:
    """Ingest (documents already there are skipped) and answer once: model loading and first
    connections are in no row."""
    say(f"{mode}: ingesting the sample corpus and warming up…")
    report = assistant.ingest(REPO / "examples" / "corpus")
    if report.refused:
        raise SystemExit(f"the sample corpus was refused: {report.refused}")
    assistant.ask("Which team owns Keel?", use_cache=False)


def _responder(fake: FakeAnthropic, rng: random.Random, latency_ms: tuple[int, ...]):
    low, high = latency_ms[0] / 1000, latency_ms[-1] / 1000

    def respond(body: dict) -> Script:
        if len(fake.history) > 512:  # the fake records every request: the soak must not measure that
            del fake.history[:-64]
        return plausible_reply(body, rng, delay_s=rng.uniform(low, high))

    return respond


def _pct(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    return round(values[min(len(values) - 1, max(0, round(q / 100 * (len(values) - 1))))], 3)


def report(results: dict) -> None:
    if results["load"]:
        config = results["config"]
        print(
            f"\n### Load: N concurrent chat sessions × {config['turns']} turns, cache off (per question: "
            f"max_seconds {config['limits']['max_seconds']:g}, max_hops {config['limits']['max_hops']})\n"
        )
        print(
            "| mode | sessions | questions | wall s | q/s | p50 s | p95 s | max s | budget stops | errors | violations "
            "| late returns | ledger mismatches | peak RSS MB |"
        )
        print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
        for r in results["load"]:
            lat = r["latency_s"]
            print(
                f"| {r['mode']} | {r['sessions']} | {r['questions']} | {r['wall_s']:.1f} | {r['questions_per_s']:.2f} "
                f"| {lat['p50']:.2f} | {lat['p95']:.2f} | {lat['max']:.2f} | {r['budget_stops']} | {r['errors']} "
                f"| {r['violations']} | {r['late_returns']} | {r['ledger_mismatches']} | {r['peak_rss_mb']:.0f} |"
            )
    for s in results["soak"]:
        print(f"\n### Soak: {s['mode']}, {s['sessions']} sessions back to back for {s['seconds']:g} s\n")
        print(
            "| questions | q/s | p50 s | p95 s | errors | violations | ledger mismatches | RSS start → end (max) MB "
            "| anonymous start → end MB | anonymous slope, 2nd half | RSS slope, 2nd half |"
        )
        print("|---|---|---|---|---|---|---|---|---|---|---|")
        print(
            f"| {s['questions']} | {s['questions_per_s']:.2f} | {s['latency_s']['p50']:.2f} | {s['latency_s']['p95']:.2f} "
            f"| {s['errors']} | {s['violations']} | {s['ledger_mismatches']} | {s['rss_start_mb']:.0f} → {s['rss_end_mb']:.0f} "
            f"({s['rss_max_mb']:.0f}) | {s['anon_start_mb']:.0f} → {s['anon_end_mb']:.0f} | {s['slope_mb_per_min']:+.2f} MB/min "
            f"| {s['rss_slope_mb_per_min']:+.2f} MB/min |"
        )
        print(
            f"\nMemory {'flat' if s['flat'] else 'GROWING'}: anonymous memory {s['slope_mb_per_min']:+.2f} MB/min "
            f"({s['kb_per_question']:+.2f} KB per question) over the second half, least squares; flat is at most "
            f"{s['threshold_mb_per_min']:g} MB/min."
        )
    problems = [p for r in results["load"] + results["soak"] for p in r["problems"]]
    if problems:
        print("\nProblems (first few):\n" + "\n".join(f"- {p}" for p in problems[:20]))
    print(
        f"\nPeak RSS of the process: {results['peak_rss_mb_process']:.0f} MB. Machine: {results['machine']['cpus']} CPUs."
    )


def _ints(text: str) -> tuple[int, ...]:
    try:
        values = tuple(int(part) for part in text.split(",") if part.strip())
    except ValueError:
        values = ()
    if not values or any(v < 0 for v in values):
        raise argparse.ArgumentTypeError(f"expected comma-separated whole numbers, e.g. 8,32,64; got {text!r}")
    return values


def _modes(text: str) -> tuple[str, ...]:
    modes = tuple(part.strip() for part in text.split(",") if part.strip())
    unknown = [m for m in modes if m not in MODES]
    if unknown or not modes:
        raise argparse.ArgumentTypeError(
            f"unknown mode {', '.join(unknown) or repr(text)}; choose from {', '.join(MODES)}"
        )
    return modes


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


if __name__ == "__main__":
    sys.exit(main())
