"""Reliability and security figures: faults injected and survived, bad inputs, leaks, canaries, and
the shared account cap under concurrent runs.

Run: `python -m bench.bench_faults [--out FILE] [--fuzz-examples N] [--quick]` (or `make bench`).
Prints Markdown tables, writes JSON (default bench/out/bench_faults.json), exits 1 if anything
crashed, leaked, obeyed an injection, overspent or lost data.

Everything runs against an embedded PostgreSQL cluster of its own (in a temporary folder), since
the faults restart and stop it. Each fault's outcome is one of: survived (the run completed, or
answered partial with the cause named, as designed), failed cleanly (a precise error, nothing
stored half-way) or CRASHED (anything else). After the faults, the stored rows are checked
(eval/consistency.py).
"""

import argparse
import asyncio
import json
import os
import platform
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

from quarry.agent import Assistant, FinalAnswer, Limits, NodeFinished, Principal
from quarry.errors import DatabaseUnavailable
from quarry.graph.budget.account import Accounts
from quarry.graph.budget.ledger import PostgresLedger
from tests.support.canary import CANARY_CORPUS, run_canaries
from tests.support.cli_env import quarry_env
from tests.support.consistency import corrupted_rows
from tests.support.disk_full import CannotFillDisk, run_disk_full
from tests.support.eval_kill import kill_and_resume
from tests.support.fuzz_inputs import run_fuzz
from tests.support.leak_probe import SAMPLE_PROBES, probe_leaks
from tests.support.pg_control import ConnectionKiller, EmbeddedCluster, once_the_pool_recovers

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "examples" / "corpus"
QUESTION = "Who leads the team that owns the service that failed in the March 2024 settlement outage?"
ACCOUNT_QUESTIONS = (
    "Which team owns Ledgerline?",
    "What does Beacon carry?",
    "What is Keel used for?",
    QUESTION,
)


@dataclass(frozen=True)
class FaultRow:
    fault: str
    injected: int
    survived: int
    failed_cleanly: int
    crashed: int
    outcome: str


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.bench_faults", description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path("bench/out/bench_faults.json"))
    parser.add_argument("--fuzz-examples", type=int, default=300, metavar="N", help="generated inputs per fuzz target")
    parser.add_argument("--quick", action="store_true", help="fewer repetitions (a smoke run)")
    args = parser.parse_args(argv)
    repeat = 1 if args.quick else 3
    results: dict = {"machine": {"cpus": os.cpu_count(), "platform": platform.platform()}}
    with tempfile.TemporaryDirectory(prefix="quarry-faults-") as tmp:
        root = Path(tmp)
        _say("starting an embedded PostgreSQL of its own")
        cluster = EmbeddedCluster(root / "pg" / "data")
        with _assistant(cluster.url, root / "data") as assistant:
            _say("ingesting the sample corpus and the canary corpus")
            report = assistant.ingest(SAMPLE, CANARY_CORPUS)
            assert not report.refused, report.refused
            faults = [
                _db_restart(assistant, cluster, repeat),
                _connection_drops(assistant, cluster, 4 * repeat),
                _db_down(assistant, cluster, repeat),
            ]
            faults += _llm_outage(root, cluster.url, repeat)
            faults += _disk_full(cluster.url, root)
            faults.append(_eval_kill(cluster.url, root))
            broken = once_the_pool_recovers(lambda: corrupted_rows(assistant.components.db))
            results["corrupted_rows"] = broken
            _say("cross-principal leak probe")
            leaks = probe_leaks(assistant, SAMPLE_PROBES)
            _say("canary corpus")
            canaries = run_canaries(assistant)
            _say("account cap under concurrent runs")
            account = _account_cap(cluster.url, root / "data", workers=2, runs_per_worker=6 if args.quick else 12)
        _say(f"fuzzing bad inputs ({args.fuzz_examples} per target)")
        fuzz = run_fuzz(args.fuzz_examples)
    results["faults"] = [asdict(row) for row in faults]
    results["bad_inputs"] = {
        "tried": fuzz.tried,
        "crashes": fuzz.crashes,
        "data_lost": 0,
        "targets": [asdict(t) for t in fuzz.targets],
        "crash_descriptions": list(fuzz.crash_descriptions),
    }
    results["leaks"] = {
        "probes": leaks.probes,
        "checks": leaks.checks,
        "leaks": leaks.leaks,
        "reachable": leaks.reachable,
        "details": list(leaks.details),
    }
    results["canaries"] = {
        "tried": canaries.injections_tried,
        "reached": canaries.reached,
        "obeyed": canaries.obeyed,
        "forged_citations": canaries.forged_citations,
        "filter_crossings": canaries.filter_crossings,
        "leaked_tokens": canaries.leaked_tokens,
    }
    results["account"] = account
    _report(results)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2, default=str) + "\n")
    print(f"\nwrote {args.out}")
    bad = (
        sum(r["crashed"] for r in results["faults"])
        + fuzz.crashes
        + leaks.leaks
        + canaries.obeyed
        + canaries.forged_citations
        + canaries.filter_crossings
        + canaries.leaked_tokens
        + account["overspend_tokens"]
        + len(broken)
    )
    return 1 if bad else 0


# -- faults ----------------------------------------------------------------------------------------


def _db_restart(assistant: Assistant, cluster: EmbeddedCluster, times: int) -> FaultRow:
    _say(f"database restart mid-run × {times}")
    outcomes = Counter()
    seconds = []
    for _ in range(times):

        def restart_after_plan(event) -> None:
            if isinstance(event, NodeFinished) and event.node == "plan":
                seconds.append(cluster.restart())

        outcomes[_run_through(assistant, restart_after_plan)] += 1
    return _row("database restart mid-run", times, outcomes, f"restart took {max(seconds):.2f} s at most")


def _connection_drops(assistant: Assistant, cluster: EmbeddedCluster, runs: int) -> FaultRow:
    _say(f"every connection dropped every 50 ms, {runs} runs")
    outcomes = Counter()
    with ConnectionKiller(cluster, interval_s=0.05) as killer:
        for _ in range(runs):
            outcomes[_run_through(assistant, lambda event: None)] += 1
    once_the_pool_recovers(lambda: assistant.ask(QUESTION))
    return _row("connections dropped every 50 ms", runs, outcomes, f"{killer.kills} connections killed")


def _db_down(assistant: Assistant, cluster: EmbeddedCluster, times: int) -> FaultRow:
    _say(f"database down for the rest of the run × {times}")
    outcomes = Counter()
    recovered = 0
    for _ in range(times):

        def stop_after_plan(event) -> None:
            if isinstance(event, NodeFinished) and event.node == "plan":
                cluster.stop()

        try:
            outcomes[_run_through(assistant, stop_after_plan)] += 1
        finally:
            cluster.start()
        recovered += once_the_pool_recovers(lambda: assistant.ask(QUESTION)).text != ""
    with assistant.components.db.transaction() as conn:
        conn.execute("UPDATE runs SET started_at = now() - interval '1 hour' WHERE status = 'running'")
    abandoned = PostgresLedger(assistant.components.db).abandon_stale()
    return _row(
        "database down for the rest of a run",
        times,
        outcomes,
        f"pool recovered {recovered}/{times}; {abandoned} stranded run(s) marked abandoned",
    )


def _run_through(assistant: Assistant, on_event: Callable[[object], None]) -> str:
    try:
        for event in assistant.stream(QUESTION, budget=Limits(max_seconds=30)):
            on_event(event)
            if isinstance(event, FinalAnswer):
                return "survived" if event.answer.text else "crashed"
    except DatabaseUnavailable as exc:
        return "failed cleanly" if "PostgreSQL at" in str(exc) else "crashed"
    except Exception as exc:
        _say(f"CRASH: {type(exc).__name__}: {exc}")
        return "crashed"
    return "crashed"


def _llm_outage(root: Path, url: str, times: int) -> list[FaultRow]:
    from tests.support.fakes.anthropic_server import Fail, FakeAnthropic, Hang

    rows = []
    for label, reply, fallback, expect in (
        ("Claude down (529), no fallback", Fail(529, message="Overloaded"), "none", "error"),
        ("Claude down (529), offline fallback", Fail(529, message="Overloaded"), "offline", None),
        ("Claude hangs past the deadline", Hang(30), "none", "deadline"),
    ):
        _say(f"{label} × {times}")
        server = FakeAnthropic(responder=lambda body, reply=reply: reply).start()
        outcomes = Counter()
        try:
            with _assistant(
                url,
                root / "data",
                provider="claude",
                environ={"ANTHROPIC_API_KEY": "bench", "ANTHROPIC_BASE_URL": server.base_url},
                llm__fallback=fallback,
                llm__max_attempts=2,
                llm__backoff_base_s=0.01,
            ) as assistant:
                for _ in range(times):
                    answer = assistant.ask(QUESTION, budget=Limits(max_seconds=4))
                    as_designed = (
                        answer.stopped_by == expect and bool(answer.text)
                        if expect
                        else (not answer.partial and answer.model == "extractive")
                    )
                    outcomes["survived" if as_designed else "crashed"] += 1
                    detail = f"stopped_by={answer.stopped_by}, model={answer.model or '-'}, {answer.elapsed_s:.1f} s"
        finally:
            server.stop()
        rows.append(_row(label, times, outcomes, detail))
    return rows


def _disk_full(url: str, root: Path) -> list[FaultRow]:
    rows = []
    for how in ("file-size-limit", "full-filesystem"):
        _say(f"blob store full ({how})")
        try:
            outcome = run_disk_full(how, url, f"full_{uuid.uuid4().hex[:8]}", root / how)
        except CannotFillDisk as exc:
            rows.append(FaultRow(f"blob store full ({how})", 0, 0, 0, 0, f"not run: {exc}"))
            continue
        clean = (
            outcome.exit_code == 1 and not outcome.traceback and outcome.partial_files == 0 and not outcome.data_lost
        )
        rows.append(
            FaultRow(
                f"blob store full ({how})",
                len(outcome.with_images),
                0,
                len(outcome.refused) if clean else 0,
                0 if clean else len(outcome.with_images),
                f"{len(outcome.refused)} refused whole, {len(outcome.stored_when_full)} stored; after making room "
                f"{outcome.data_lost} lost",
            )
        )
    return rows


def _eval_kill(url: str, root: Path) -> FaultRow:
    _say("eval worker killed (SIGKILL) mid-run, then --resume")
    workdir = root / "eval-kill"
    workdir.mkdir()
    env = quarry_env(QUARRY_DATABASE_URL=url, QUARRY_DATA_DIR=str(root / "eval-data"), QUARRY_LLM__PROVIDER="offline")
    outcome = kill_and_resume(env, workdir, f"kill_{uuid.uuid4().hex[:8]}")
    fine = (
        outcome.killed
        and outcome.resume_exit_code == 0
        and outcome.exactly_once
        and outcome.rerun == len(outcome.questions) - len(outcome.done_before)
    )
    return FaultRow(
        "eval worker SIGKILLed, resumed",
        1,
        int(fine),
        0,
        int(not fine),
        f"{len(outcome.done_before)} answered before the kill; resume ran {outcome.rerun}; "
        f"{len(outcome.ids_after)} rows for {len(outcome.questions)} questions",
    )


def _row(fault: str, injected: int, outcomes: Counter, detail: str) -> FaultRow:
    return FaultRow(fault, injected, outcomes["survived"], outcomes["failed cleanly"], outcomes["crashed"], detail)


# -- the account cap --------------------------------------------------------------------------------


def _account_cap(url: str, data_dir: Path, *, workers: int, runs_per_worker: int) -> dict:
    """`workers` assistants (each its own pool and event loop, as separate processes would be) run
    questions concurrently against one account; returns what the account and the ledger say."""
    name = f"bench-{uuid.uuid4().hex[:6]}"
    cap = 900 * workers * runs_per_worker // 3  # an offline run spends ~900 tokens: room for about a third of them
    with _assistant(url, data_dir) as admin:
        Accounts(admin.components.db).set(name, max_usd=1.0, max_tokens=cap)
        assistants = [_assistant(url, data_dir, research__account=name) for _ in range(workers)]

        async def one_worker(assistant: Assistant, w: int) -> list:
            return await asyncio.gather(
                *(
                    assistant.aask(
                        ACCOUNT_QUESTIONS[i % len(ACCOUNT_QUESTIONS)],
                        principal=Principal(id=f"w{w}u{i}"),
                        budget=Limits(max_seconds=60, max_tokens=4000),
                    )
                    for i in range(runs_per_worker)
                )
            )

        async def everyone() -> list:
            return [
                a
                for batch in await asyncio.gather(*(one_worker(a, w) for w, a in enumerate(assistants)))
                for a in batch
            ]

        try:
            answers = asyncio.run(everyone())
        finally:
            for assistant in assistants:
                assistant.close()
        state = Accounts(admin.components.db).state(name)
        with admin.components.db.transaction() as conn:
            ledger_tokens = conn.execute(
                "SELECT coalesce(sum(input_tokens + output_tokens), 0) AS n FROM spend WHERE kind = 'llm'"
                " AND run_id = ANY(%s::uuid[])",
                ([a.run_id for a in answers],),
            ).fetchone()["n"]
    return {
        "runs": len(answers),
        "workers": workers,
        "cap_tokens": cap,
        "spent_tokens": state.spent_tokens,
        "ledger_tokens": ledger_tokens,
        "overspend_tokens": max(0, state.spent_tokens - cap),
        "books_agree": ledger_tokens == state.spent_tokens,
        "open_holds": state.open_holds,
        "stopped_by": dict(Counter(a.stopped_by or "complete" for a in answers)),
    }


# -- plumbing ---------------------------------------------------------------------------------------


def _assistant(url: str, data_dir: Path, *, environ: dict[str, str] | None = None, **overrides) -> Assistant:
    """An Assistant on the bench's cluster (a context manager: closing it closes its pool and loop)."""
    return Assistant.from_config(
        REPO / "config.yaml",
        environ=environ or {},
        database_url=url,
        data_dir=str(data_dir),
        cache__enabled=False,
        **{"provider": "offline", "database__connect_timeout_s": 3, **overrides},
    )


def _report(results: dict) -> None:
    print("## Faults injected\n")
    print("| fault | injected | survived | failed cleanly | crashed | outcome |")
    print("|---|---:|---:|---:|---:|---|")
    for r in results["faults"]:
        print(
            f"| {r['fault']} | {r['injected']} | {r['survived']} | {r['failed_cleanly']} | {r['crashed']} | {r['outcome']} |"
        )
    broken = results["corrupted_rows"]
    print(f"\nStored rows after the faults: {broken or 'consistent'}\n")
    fuzz, leaks, canaries, account = results["bad_inputs"], results["leaks"], results["canaries"], results["account"]
    print("## Summary\n")
    print("| measure | value |")
    print("|---|---|")
    total = sum(r["injected"] for r in results["faults"])
    held = sum(r["survived"] + r["failed_cleanly"] for r in results["faults"])
    print(
        f"| faults injected / survived or failed cleanly / crashed | {total} / {held} / {sum(r['crashed'] for r in results['faults'])} |"
    )
    print(f"| bad inputs tried / crashes / data lost | {fuzz['tried']} / {fuzz['crashes']} / {fuzz['data_lost']} |")
    print(
        f"| cross-principal leaks ({leaks['checks']} surfaces, {leaks['probes']} probes, {leaks['reachable']} reachable by the insider) | {leaks['leaks']} |"
    )
    print(
        f"| canary injections obeyed ({canaries['tried']} tried, {canaries['reached']} reached the model) | {canaries['obeyed']} |"
    )
    print(
        f"| forged citations / filter crossings / leaked canary tokens | {canaries['forged_citations']} / {canaries['filter_crossings']} / {canaries['leaked_tokens']} |"
    )
    print(
        f"| account cap: {account['runs']} runs on {account['workers']} workers, cap {account['cap_tokens']} tokens | "
        f"spent {account['spent_tokens']} (overspend {account['overspend_tokens']}); books agree: {account['books_agree']}; "
        f"stopped_by {account['stopped_by']} |"
    )


def _say(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


if __name__ == "__main__":
    sys.exit(main())
