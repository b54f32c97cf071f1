"""`quarry`: the command-line entry point. Subcommands live one per module and import heavy
dependencies only when they run, so `quarry --help` stays fast (no torch)."""

import argparse
import atexit
import contextlib
import logging
import os
import sys
from collections.abc import Sequence
from importlib import import_module
from pathlib import Path

from quarry.agent.cli import (
    account,
    ask,
    cache,
    chat,
    config_cmd,
    doctor,
    gc,
    ingest,
    keys,
    rm,
    runs,
    search,
    serve,
    spend,
)
from quarry.agent.cli.terminal import guarded_streams
from quarry.errors import ExitCode, QuarryError

_COMMANDS = (ingest, rm, search, ask, chat, runs, spend, account, cache, gc, doctor, serve, keys, config_cmd)
_REMOTE_COMMANDS = ("ask", "chat", "search", "runs", "spend")
"""Commands that talk to a server instead when QUARRY_URL and QUARRY_API_KEY are set."""
_URL_ENV, _KEY_ENV = "QUARRY_URL", "QUARRY_API_KEY"
# eval depends on agent (never the reverse), so its command module is found by name at start-up.
_PLUGIN_COMMANDS = ("quarry.eval.cli",)

_EPILOG = """\
exit codes: 0 success; 1 some documents were refused; 2 bad arguments or configuration;
3 the database or a model is unavailable; 4 a budget is spent; 130 interrupted.

environment: QUARRY_CONFIG (config file), QUARRY_DATA_DIR (where the embedded database lives),
QUARRY_DATABASE_URL (use an external PostgreSQL with pgvector), QUARRY_PROVIDER (auto, claude or offline),
QUARRY_<SECTION>__<KEY> (any setting). With QUARRY_URL and QUARRY_API_KEY set, ask, chat, search,
runs and spend are sent to that server (quarry serve) as the key's principal instead of running here.
"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="quarry",
        description="Quarry: an agentic research assistant with hybrid retrieval and hard budgets.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--config", type=Path, metavar="FILE", help="config file (default: $QUARRY_CONFIG or ./config.yaml)"
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module in _COMMANDS:
        module.register(commands)
    for name in _PLUGIN_COMMANDS:
        import_module(name).register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command. The one place an escaped error becomes an exit code: each QuarryError carries
    its own (quarry.errors draws the tree); commands return only outcomes (0, or 1 when documents
    were refused, or 3 when doctor finds a fault)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    unusable = _unusable_text(parser, args)
    if unusable:
        parser.exit(ExitCode.USAGE, f"quarry: error: {unusable}\n")
    # The pool logs every failed reconnect while a server is down; the user gets one clear error instead.
    logging.getLogger("psycopg.pool").setLevel(logging.ERROR)
    # Documents, titles and questions are data: no control character in them reaches the terminal.
    with guarded_streams():
        try:
            if args.command in _REMOTE_COMMANDS and (os.environ.get(_URL_ENV) or os.environ.get(_KEY_ENV)):
                # A client of a server (quarry.agent.client): no settings, database or model here.
                from quarry.agent.client.commands import run_remote
                from quarry.agent.client.http import remote_from_environment

                client = remote_from_environment()
                assert client is not None  # one of the two variables is set: a client, or a UsageError
                return run_remote(args, client)
            from quarry.agent.settings import load_settings

            # `config init` writes a new file: a broken current configuration must not stop it.
            settings = load_settings(args.config) if getattr(args, "loads_settings", True) else None
            code: int = args.run(args, settings)
            return code
        except QuarryError as exc:
            # A command may name itself in its errors (set_defaults(error_prefix="quarry eval qa")).
            print(f"{getattr(args, 'error_prefix', 'quarry')}: {exc}", file=sys.stderr)
            return exc.exit_code
        except KeyboardInterrupt:
            note = getattr(args, "interrupted_note", "")
            print(f"quarry: interrupted{'; ' + note if note else ''}", file=sys.stderr)
            return ExitCode.INTERRUPTED
        except BrokenPipeError:
            # The reader went away (`quarry runs | head`): stop quietly, and keep the interpreter's final
            # flush of stdout from raising again.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            return ExitCode.OK


def _unusable_text(parser: argparse.ArgumentParser, args: argparse.Namespace) -> str | None:
    """A text argument the corpus could never hold: bytes that are not UTF-8 in a UTF-8 locale arrive as
    lone surrogates (and would fail deep inside the database driver), or a NUL from a programmatic caller."""
    from quarry.agent.cli.arguments import clipped
    from quarry.corpus.storable import unstorable_character

    for dest, value in vars(args).items():
        for text in value if isinstance(value, (list, tuple)) else (value,):
            if isinstance(text, str) and (bad := unstorable_character(text)):
                return f"argument {_flag(parser, dest)}: '{clipped(text)}' contains {bad}"
    return None


def _flag(parser: argparse.ArgumentParser, dest: str) -> str:
    """How the user wrote the argument stored in `dest` (--domain, or the positional's name)."""
    for action in parser._actions:
        if action.dest == dest:
            if action.option_strings:
                return action.option_strings[-1]
            metavar = action.metavar  # a tuple names the values of an nargs>1 positional
            return " ".join(metavar) if isinstance(metavar, tuple) else (metavar or dest)
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                found = _flag(sub, dest)
                if found != dest:
                    return found
    return dest


def entry() -> None:
    """The `quarry` program: `main()`, then a prompt exit. Tearing down an interpreter that has loaded
    torch takes seconds (measured 6–8 s on a busy 2-core machine) and would come after the answer; so
    once the output is flushed and the exit hooks have run (the embedded server's stop, abandoned work
    drained: agent/loop.py), the process ends without it."""
    code = main()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # a closed pipe: nothing more can reach the reader
            stream.flush()
    atexit._run_exitfuncs()
    os._exit(code)


if __name__ == "__main__":
    entry()
