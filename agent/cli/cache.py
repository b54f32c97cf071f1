"""`quarry cache stats|clear`: what the semantic cache holds and has saved, and emptying it."""

import argparse
import json
from dataclasses import asdict
from typing import TYPE_CHECKING

from quarry.errors import ExitCode

if TYPE_CHECKING:
    from quarry.agent.settings import Settings


def register(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    parser = commands.add_parser(
        "cache",
        help="semantic cache: statistics, or clear it",
        description="The semantic cache serves a stored answer when a question is close to one answered before "
        "(cosine ≥ cache.threshold and the false-hit guard agrees), for the same access groups and filters, on "
        "the same corpus version. See config.yaml's cache section.",
    )
    sub = parser.add_subparsers(dest="cache_command", metavar="WHAT", required=True)
    stats = sub.add_parser("stats", help="entries, hits, dollars saved")
    stats.add_argument("--json", action="store_true", help="print JSON")
    stats.set_defaults(run=run_stats)
    clear = sub.add_parser("clear", help="delete cached answers (all, or only the stale ones)")
    clear.add_argument("--stale", action="store_true", help="only entries from older corpus versions or past their TTL")
    clear.set_defaults(run=run_clear)


def run_stats(args: argparse.Namespace, settings: "Settings") -> int:
    from quarry.corpus.db import Database
    from quarry.corpus.store import corpus_version
    from quarry.graph.budget.ledger import PostgresLedger
    from quarry.tools.cache import SemanticCache

    with Database.open(settings.database, settings.embedding, settings.data_dir) as db:
        stats = SemanticCache(db, settings.cache).stats(corpus_version(db))
        served = PostgresLedger(db).cache_record()  # what hits saved is the ledger's to say
    if args.json:
        shown = {**asdict(stats), **asdict(served)}
        order = ("entries", "current", "expired", "hits", "saved_usd", "hit_runs", "runs", "oldest", "newest")
        print(json.dumps({key: shown[key] for key in order}, indent=2, default=str))
        return ExitCode.OK
    config = settings.cache
    state = "on" if config.enabled else "off (cache.enabled: false)"
    print(
        f"Semantic cache: {state}; threshold {config.threshold}, guard {'on' if config.guard else 'off'}, "
        f"TTL {config.ttl_seconds / 3600:g} h, at most {config.max_entries:,} entries"
    )
    print(f"Entries: {stats.entries:,} ({stats.current:,} on the current corpus version, {stats.expired:,} expired)")
    if stats.oldest:
        print(f"Stored between {stats.oldest:%Y-%m-%d %H:%M} and {stats.newest:%Y-%m-%d %H:%M} UTC")
    rate = f"{served.hit_runs / served.runs:.1%}" if served.runs else "—"
    print(f"Hits: {served.hit_runs:,} of {served.runs:,} runs ({rate}); saved ${served.saved_usd:.6f}")
    return ExitCode.OK


def run_clear(args: argparse.Namespace, settings: "Settings") -> int:
    from quarry.corpus.db import Database
    from quarry.corpus.store import corpus_version
    from quarry.tools.cache import SemanticCache

    with Database.open(settings.database, settings.embedding, settings.data_dir) as db:
        cache = SemanticCache(db, settings.cache)
        removed = cache.clear(corpus_version=corpus_version(db) if args.stale else None)
    print(f"Removed {removed:,} {'stale ' if args.stale else ''}cache entr{'y' if removed == 1 else 'ies'}.")
    return ExitCode.OK
