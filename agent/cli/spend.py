"""`quarry spend`: where the tokens and dollars went, by node, model, day or principal."""

import argparse
import json
from dataclasses import asdict
from typing import TYPE_CHECKING

from quarry.agent.cli.arguments import since
from quarry.errors import ExitCode

if TYPE_CHECKING:
    from datetime import datetime

    from rich.console import Console

    from quarry.agent.ledger_view import SpendRow
    from quarry.agent.settings import Settings


def register(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    parser = commands.add_parser(
        "spend",
        help="the operator's view: everyone's tokens and dollars by node, model, day or principal",
        description="The operator's view: totals over every principal's runs, from the ledger (one row per model "
        "or embedding call, attributed to the node that made it). Dollars are what the API reported; a call that "
        "timed out counts at its reservation (marked est.). Assistant.spend() in the Python API shows one "
        "principal's own by default.",
    )
    parser.add_argument(
        "--by", choices=("node", "model", "day", "principal"), default="node", help="group by (default: node)"
    )
    parser.add_argument(
        "--since", type=since, metavar="WHEN", help="only calls since: 30m, 24h, 7d, or a date (default: all)"
    )
    parser.add_argument("--json", action="store_true", help="print JSON rows")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace, settings: "Settings") -> int:
    from quarry.agent.cli.tables import console_for_stdout
    from quarry.agent.ledger_view import saved_by_cache, spend_by
    from quarry.corpus.db import Database

    with Database.open(settings.database, settings.embedding, settings.data_dir) as db:
        rows = spend_by(db, args.by, since=args.since)
        hits, saved = saved_by_cache(db, since=args.since)
    if args.json:
        print(json.dumps([asdict(r) for r in rows], indent=2))
        return ExitCode.OK
    show_spend(console_for_stdout(), rows, args.by, args.since, hits, saved)
    return ExitCode.OK


def show_spend(
    console: "Console", rows: "list[SpendRow]", by: str, since: "datetime | None", hits: int, saved: float
) -> None:
    """The spend table (and what the semantic cache saved), as `quarry spend` prints it."""
    from rich.table import Table

    window = f" since {since:%Y-%m-%d %H:%M} UTC" if since else ""
    if not rows:
        console.print(f"No spend recorded{window}.")
        return
    total_usd = sum(r.usd for r in rows)
    table = Table(title=f"Spend by {by}{window}", title_justify="left", show_footer=True)
    table.add_column(by, footer="total")
    table.add_column("runs", justify="right")
    table.add_column("calls", justify="right", footer=str(sum(r.calls for r in rows)))
    table.add_column("tokens in", justify="right", footer=f"{sum(r.input_tokens for r in rows):,}")
    table.add_column("tokens out", justify="right", footer=f"{sum(r.output_tokens for r in rows):,}")
    table.add_column("usd", justify="right", footer=f"${total_usd:.6f}")
    table.add_column("share", justify="right")
    for r in rows:
        share = f"{r.usd / total_usd:.1%}" if total_usd else "—"
        table.add_row(
            r.key, str(r.runs), str(r.calls), f"{r.input_tokens:,}", f"{r.output_tokens:,}", f"${r.usd:.6f}", share
        )
    console.print(table)
    if hits:
        console.print(f"Saved by the semantic cache: ${saved:.6f} over {hits} hit(s) (what the original runs cost).")
