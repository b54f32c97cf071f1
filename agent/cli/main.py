"""`quarry`: the command-line entry point. Subcommands live one per module and import heavy
dependencies only when they run, so `quarry --help` stays fast (no torch)."""

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from importlib import import_module

from agent.cli import ask, cache, chat, doctor, gc, ingest, runs, search, spend
from agent.cli.exit_codes import EXIT_ENVIRONMENT, EXIT_USAGE
from agent.errors import QuarryError

_COMMANDS = (ingest, search, ask, chat, runs, spend, cache, gc, doctor)
# eval depends on agent (never the reverse), so its command module is found by name at start-up.
_PLUGIN_COMMANDS = ("eval.cli",)

_EPILOG = """\
exit codes: 0 success; 1 some documents were refused; 2 bad arguments or configuration;
3 the database or model is unavailable.

environment: QUARRY_CONFIG (config file), QUARRY_DATA_DIR (where the embedded database lives),
QUARRY_DATABASE_URL (use an external PostgreSQL with pgvector), QUARRY_<SECTION>__<KEY> (any setting).
"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="quarry",
        description="Quarry: an agentic research assistant with hybrid retrieval and hard budgets.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--config", type=Path, metavar="FILE", help="config file (default: $QUARRY_CONFIG or ./config.yaml)")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module in _COMMANDS:
        module.register(commands)
    for name in _PLUGIN_COMMANDS:
        import_module(name).register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    from agent.settings import load_settings
    from corpus.errors import CorpusError, DatabaseUnavailable, EmbeddingMismatch, EmbeddingModelError

    try:
        settings = load_settings(args.config)
        return args.run(args, settings)
    except (DatabaseUnavailable, EmbeddingModelError, EmbeddingMismatch) as exc:
        print(f"quarry: {exc}", file=sys.stderr)
        return EXIT_ENVIRONMENT
    except (QuarryError, CorpusError) as exc:
        print(f"quarry: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("quarry: interrupted; every document written so far is complete", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
