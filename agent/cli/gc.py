"""`quarry gc`: delete blobs (images) no committed document references."""

import argparse
from typing import TYPE_CHECKING

from quarry.agent.cli.arguments import non_negative_float
from quarry.errors import ExitCode

if TYPE_CHECKING:
    from quarry.agent.settings import Settings


def register(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    parser = commands.add_parser(
        "gc",
        help="delete image blobs no document references (left by interrupted ingests)",
        description="Images are written to the blob store before the transaction that references them; an "
        "ingest interrupted in between leaves unreferenced blobs. This deletes those older than the grace period "
        "(ingest.gc_grace_seconds, default 1 h). `quarry ingest` also runs it at start.",
    )
    parser.add_argument("--grace", type=non_negative_float, metavar="SECONDS", help="override the grace period")
    parser.add_argument("--dry-run", action="store_true", help="count, delete nothing")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace, settings: "Settings") -> int:
    from quarry.agent.components import Components

    with Components(settings) as components:
        report = components.collect_garbage(grace_seconds=args.grace, dry_run=args.dry_run)
    verb = "would delete" if args.dry_run else "deleted"
    print(
        f"{report.blobs} blob(s): {report.referenced} referenced, {verb} {report.deleted} unreferenced "
        f"({report.freed_bytes:,} bytes), kept {report.kept_young} inside the grace period; "
        f"removed {report.incomplete_removed} interrupted write(s)."
    )
    return ExitCode.OK
