"""`quarry runs [RUN_ID]`: recent research runs, or one run's trace as a timeline with per-node
time, tokens and dollars, and every model call it paid for."""

import argparse
import json
from dataclasses import asdict
from typing import TYPE_CHECKING

from quarry.agent.cli.arguments import positive_int
from quarry.errors import ExitCode

if TYPE_CHECKING:
    from rich.console import Console, JustifyMethod

    from quarry.agent.ledger_view import RunRecord, RunSummary
    from quarry.agent.settings import Settings

Columns = tuple[tuple[str, "JustifyMethod"], ...]
"""A table's columns: heading and alignment."""
BAR_WIDTH = 30


def register(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    parser = commands.add_parser(
        "runs",
        help="the operator's view: everyone's recent runs, or one run's trace and cost",
        description="The operator's view of the ledger: every principal's questions, traces and evidence, whole "
        "(nothing is redacted; whoever can run this command against the database can read them all). Without "
        "RUN_ID: the most recent runs (id, when, who, outcome, hops, tokens, dollars, time). With RUN_ID (the full "
        "id or its first 6+ characters): the run's timeline — each node's start, duration, outcome, tokens and "
        "dollars — and the model calls it made. A reader's own view is the Python API's Assistant.runs()/run() "
        "(principal-scoped by default).",
    )
    parser.add_argument("run_id", nargs="?", metavar="RUN_ID", help="a run to show in detail")
    parser.add_argument("--limit", type=positive_int, default=20, help="runs to list (default: 20)")
    parser.add_argument("--principal", metavar="ID", help="only runs by this principal")
    parser.add_argument(
        "--hits",
        type=positive_int,
        default=3,
        metavar="N",
        help="passages shown per search and rerank step, with each retriever's rank (default: 3)",
    )
    parser.add_argument("--json", action="store_true", help="print JSON instead of tables")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace, settings: "Settings") -> int:
    from quarry.agent.cli.tables import console_for_stdout
    from quarry.agent.ledger_view import load_run, recent_runs
    from quarry.corpus.db import Database
    from quarry.graph.budget.ledger import PostgresLedger

    with Database.open(settings.database, settings.embedding, settings.data_dir) as db:
        if not db.read_only:  # a replica shows the ledger as the primary last wrote it
            PostgresLedger(db).abandon_stale()
        if args.run_id:
            record = load_run(db, args.run_id)
        else:
            runs = recent_runs(db, limit=args.limit, principal_id=args.principal)
    console = console_for_stdout()
    if args.run_id:
        if args.json:
            print(json.dumps(asdict(record), indent=2, default=str))
        else:
            show_run(console, record, args.hits)
    elif args.json:
        print(json.dumps([asdict(r) for r in runs], indent=2, default=str))
    else:
        list_runs(console, runs)
    return ExitCode.OK


def list_runs(console: "Console", runs: "list[RunSummary]") -> None:
    from rich.table import Table

    if not runs:
        console.print('No runs yet: ask something with `quarry ask "..."` or `quarry chat`.')
        return
    table = Table(title=f"{len(runs)} most recent run(s)", title_justify="left")
    columns: Columns = (
        ("run", "left"),
        ("started (UTC)", "left"),
        ("principal", "left"),
        ("outcome", "left"),
        ("hops", "right"),
        ("tokens", "right"),
        ("usd", "right"),
        ("seconds", "right"),
        ("question", "left"),
    )
    for column, justify in columns:
        table.add_column(column, justify=justify, overflow="fold" if column == "question" else "ellipsis")
    for r in runs:
        outcome = r.status if r.stopped_by is None else f"{r.status} ({r.stopped_by})"
        if r.cache_hit:
            outcome += " (cache)"
        table.add_row(
            r.id[:8],
            f"{r.started_at:%Y-%m-%d %H:%M:%S}",
            r.principal_id,
            outcome,
            str(r.hops),
            f"{r.tokens:,}",
            f"${r.usd:.6f}",
            f"{r.elapsed_ms / 1000:.2f}",
            r.question,
        )
    console.print(table)


def show_run(console: "Console", record: "RunRecord", hits_shown: int) -> None:
    from rich.table import Table

    s = record.summary
    outcome = s.status if s.stopped_by is None else f"{s.status}, stopped by {s.stopped_by}"
    if s.cache_hit:
        outcome += f", served from the semantic cache (saved ${s.saved_usd:.6f})"
    console.print(
        f"Run {s.id}  ·  {s.started_at:%Y-%m-%d %H:%M:%S} UTC  ·  principal {s.principal_id}  ·  corpus version {record.corpus_version}"
    )
    console.print(f"Question: {s.question}")
    console.print(
        f"Outcome: {outcome} after {s.hops} hop(s)  ·  {s.elapsed_ms / 1000:.2f} s  ·  {s.tokens:,} tokens  ·  ${s.usd:.6f}"
    )
    limits = record.limits
    console.print(
        f"Limits: {limits.get('max_seconds')} s, {limits.get('max_hops')} hops, {limits.get('max_tokens'):,} tokens, ${limits.get('max_usd')}"
    )
    if not record.trace:
        console.print("No trace recorded (the run failed or is still running).")
    else:
        total_ms = max(span.start_ms + span.ms for span in record.trace) or 1.0
        timeline = Table(title="Timeline", title_justify="left")
        columns: Columns = (
            ("start s", "right"),
            ("ms", "right"),
            ("", "left"),
            ("node", "left"),
            ("outcome", "left"),
            ("tokens", "right"),
            ("usd", "right"),
            ("detail", "left"),
        )
        for column, justify in columns:
            timeline.add_column(column, justify=justify, overflow="fold" if column == "detail" else "ellipsis")
        for span in sorted(record.trace, key=lambda x: x.start_ms):
            timeline.add_row(
                f"{span.start_ms / 1000:.3f}",
                f"{span.ms:.1f}",
                _bar(span.start_ms, span.ms, total_ms),
                span.node,
                span.outcome,
                f"{span.tokens:,}",
                f"${span.usd:.6f}",
                span.detail,
            )
        console.print(timeline)
    found = [span for span in record.trace if span.hits or span.inputs]
    if found:
        console.print("Inputs and hits (rank in each retriever: 1 = best)", style="bold")
        for span in found:
            console.print(f"  {span.node}: {span.inputs}", markup=False)
            for n, hit in enumerate(span.hits[:hits_shown], start=1):
                ranks = " · ".join(f"{name} #{rank}" for name, rank in sorted(hit.ranks.items())) or "—"
                console.print(
                    f"      {n}. {hit.title} ({hit.document_id}, chunk {hit.chunk_id}) score {hit.score:.3f}: {ranks}",
                    markup=False,
                )
    if record.calls:
        calls = Table(title="Model calls", title_justify="left")
        call_columns: Columns = (
            ("node", "left"),
            ("model", "left"),
            ("in", "right"),
            ("out", "right"),
            ("usd", "right"),
            ("ms", "right"),
            ("attempts", "right"),
            ("outcome", "left"),
        )
        for column, justify in call_columns:
            calls.add_column(column, justify=justify)
        for c in record.calls:
            calls.add_row(
                c.node,
                c.model,
                f"{c.input_tokens:,}",
                f"{c.output_tokens:,}",
                f"${c.usd:.6f}" + (" (est.)" if c.estimated else ""),
                f"{c.ms:.1f}",
                str(c.attempts),
                c.outcome,
            )
        console.print(calls)
    answer = (record.answer or {}).get("answer")
    if answer:
        console.print("Answer:", answer, markup=False)


def _bar(start_ms: float, ms: float, total_ms: float) -> str:
    """The span's place in the run, as a bar of BAR_WIDTH cells."""
    first = min(BAR_WIDTH - 1, int(start_ms / total_ms * BAR_WIDTH))
    length = max(1, round(ms / total_ms * BAR_WIDTH))
    length = min(length, BAR_WIDTH - first)
    return "·" * first + "█" * length + "·" * (BAR_WIDTH - first - length)
