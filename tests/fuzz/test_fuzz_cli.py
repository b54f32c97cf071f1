"""Bad command lines, run in-process: `quarry ARGV` exits with a documented code, never prints a
traceback, and a usage error names the flag, argument or config key. Commands stop at a tripwire
where their real work would begin (tests/support/fuzz_inputs.cli_tripwires): argparse, settings, budget and
filter checks and loading the files to ingest all run for real. Each @example once crashed or was
accepted only to fail deep inside a later step."""

import contextlib
import io
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import example, given, settings

from quarry.agent.cli.main import main
from tests.support.fuzz_inputs import ReachedRealWork, check_cli, cli_tripwires, prepare_cli_folder
from tests.support.fuzz_strategies import argvs


@pytest.fixture(scope="module")
def cli_folder(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    folder = tmp_path_factory.mktemp("cli")
    prepare_cli_folder(folder)
    with pytest.MonkeyPatch.context() as patch, cli_tripwires():
        for name in [name for name in os.environ if name.startswith("QUARRY_")]:
            patch.delenv(name)
        patch.setenv("QUARRY_CONFIG", str(folder / "good.yaml"))
        patch.chdir(folder)
        yield folder


@settings(max_examples=150)
@given(argvs())
@example(["spend", "--since", "99999999999d"])  # OverflowError from timedelta
@example(["ask", "q", "--after", "0001-01-01T00:00:00+14:00"])  # accepted; OverflowError comparing it in UTC
@example(["ingest", "--published-at", "9999-12-31T23:59:59-23:59", "a.md"])  # the same, as a document default
@example(["ingest", "x" * 3000])  # OSError: file name too long, from Path.exists()
@example(["ingest", "\udcff.md"])  # a file name that is not UTF-8
@example(["search", "events", "--author", "M\udcfcller"])  # Latin-1 byte: UnicodeEncodeError in the database driver
@example(["ask", "q\x00"])  # a NUL reaches the ledger, which PostgreSQL refuses
@example(["ask", "q", "--max-hops", "9" * 5000])  # ValueError for 5,000 digits, echoed whole in the message
@example(["search", "x", "--after", "2024-02-01", "--before", "2024-01-01"])  # the message named no flag
@example(["--config", "dates.yaml", "doctor"])  # ValueError from PyYAML reading the config
def test_every_command_line_exits_cleanly_and_names_what_is_wrong(cli_folder: Path, argv: list[str]):
    check_cli(argv)


def run(argv: list[str]) -> tuple[object, str]:
    err = io.StringIO()
    try:
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
            code: object = main(argv)
    except SystemExit as exit_:
        code = exit_.code
    except ReachedRealWork:
        code = "reached"
    return code, (err.getvalue().strip().splitlines() or [""])[-1]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["spend", "--since", "99999999999d"],
            "quarry spend: error: argument --since: '99999999999d' reaches back before the year 1",
        ),
        (
            ["ask", "q", "--after", "0001-01-01T00:00:00+14:00"],
            "quarry ask: error: argument --after: '0001-01-01T00:00:00+14:00' is out of range (in UTC it falls outside the years 1 to 9999)",
        ),
        (
            ["search", "x", "--after", "2024-02-30"],
            "quarry search: error: argument --after: '2024-02-30' is not a date (YYYY-MM-DD) or ISO-8601 timestamp "
            "(day is out of range for month)",
        ),
        (
            ["search", "events", "--author", "M\udcfcller"],
            "quarry: error: argument --author: 'M\udcfcller' contains an unpaired surrogate '\\udcfc' at character 1 "
            "(text that was not valid UTF-8)",
        ),
        (
            ["ask", "q", "--max-hops", "9" * 5000],
            f"quarry ask: error: argument --max-hops: '{'9' * 59}…' is too large (5,000 digits)",
        ),
        (["ask", "q", "--max-seconds", "1e300"], "quarry: --max-seconds must be at most 86400, got 1e+300"),
        (
            ["search", "x", "--after", "2024-02-01", "--before", "2024-01-01"],
            "quarry: --after/--before: published_after (2024-02-01T00:00:00+00:00) must be before "
            "published_before (2024-01-01T00:00:00+00:00)",
        ),
    ],
)
def test_usage_errors_name_the_flag(cli_folder: Path, argv: list[str], message: str):
    assert run(argv) == (2, message)


def test_ingest_of_a_name_too_long_reaches_the_ingest_with_a_refusal(cli_folder: Path):
    from quarry.corpus.loaders import Refusal, load_paths

    assert run(["ingest", "x" * 3000])[0] == "reached"
    assert list(load_paths([Path("x" * 3000)])) == [Refusal("x" * 3000, "cannot be opened: File name too long")]
