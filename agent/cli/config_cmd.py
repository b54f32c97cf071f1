"""`quarry config show` (the effective settings and where each came from) and `quarry config init`
(a commented config.yaml with every key at its default)."""

import argparse
import json
import os
from pathlib import Path
from typing import TYPE_CHECKING

from quarry.errors import ExitCode, UsageError

if TYPE_CHECKING:
    from quarry.agent.settings import Settings

_DEFAULT_FILE = Path("config.yaml")


def register(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    parser = commands.add_parser(
        "config",
        help="show the effective settings, or write a commented config.yaml",
        description="Settings come from, highest first: QUARRY_<SECTION>__<KEY> environment variables (and the "
        "short forms QUARRY_DATA_DIR, QUARRY_DATABASE_URL, QUARRY_PROVIDER), the config file (--config, "
        "$QUARRY_CONFIG or ./config.yaml), the built-in defaults.",
    )
    actions = parser.add_subparsers(dest="config_action", metavar="ACTION", required=True)
    show = actions.add_parser(
        "show",
        help="the effective settings and where each value came from",
        description="Every setting's effective value and its source: default, the config file (named), or the "
        "environment variable (named). Passwords in database.url are masked.",
    )
    show.add_argument("--json", action="store_true", help="one JSON object instead of the table")
    show.set_defaults(run=run_show)
    init = actions.add_parser(
        "init",
        help="write a commented config.yaml with every key at its default",
        description="Writes every section and key at its default, each with its meaning and allowed range as a "
        "comment. Refuses to replace an existing file unless --force. Ignores the current configuration.",
    )
    init.add_argument(
        "path", nargs="?", type=Path, default=_DEFAULT_FILE, metavar="PATH", help="default: ./config.yaml"
    )
    init.add_argument("--force", action="store_true", help="replace PATH if it exists")
    init.set_defaults(run=run_init, loads_settings=False)


def run_show(args: argparse.Namespace, settings: "Settings") -> int:
    from quarry.agent.cli.tables import console_for_stdout
    from quarry.agent.settings import default_config_path
    from quarry.agent.settings_sources import setting_values

    path = args.config if args.config is not None else default_config_path()
    values = setting_values(settings, path=path, environ=os.environ)
    file_label = str(path) if path is not None else None
    if args.json:
        rows = [{"key": v.key, "value": v.value, "source": v.source, "origin": v.origin} for v in values]
        print(json.dumps({"config_file": file_label, "data_dir": str(settings.data_dir), "settings": rows}, indent=2))
        return ExitCode.OK
    from rich.table import Table

    console = console_for_stdout()
    console.print(f"config file: {file_label or 'none (built-in defaults and the environment)'}")
    console.print(f"data folder: {settings.data_dir}")
    table = Table(box=None, pad_edge=False)
    for column in ("setting", "value", "from"):
        table.add_column(column, overflow="fold")
    for v in values:
        origin = {"default": "default", "file": f"file {v.origin}", "environment": f"environment {v.origin}"}
        table.add_row(v.key, json.dumps(v.value), origin[v.source])
    console.print(table)
    return ExitCode.OK


def run_init(args: argparse.Namespace, settings: None) -> int:
    from quarry.agent.settings_template import config_template

    path: Path = args.path
    if path.is_dir():
        raise UsageError(f"'{path}' is a folder; name the file to write (e.g. {path / 'config.yaml'})")
    try:
        with path.open("w" if args.force else "x", encoding="utf-8") as out:
            out.write(config_template())
    except FileExistsError:
        raise UsageError(f"'{path}' already exists; pass --force to replace it, or name another file") from None
    except OSError as exc:
        raise UsageError(f"cannot write '{path}': {exc.strerror or exc}") from None
    print(f"wrote {path} (every key at its default; `quarry config show` prints the effective settings)")
    return ExitCode.OK
