"""The CLI as a user pipes it: the answer's outcome and formats, every command into a closed pipe
without a traceback, piped chat without prompts, session id prefixes, case-insensitive filters
and relative dates."""

import json
import re
import subprocess
import sys

import pytest

from tests.e2e.conftest import Cli

pytestmark = pytest.mark.slow

COMPOUND = "Who leads the team that owns Ledgerline, and where is that team based?"
SESSION_ID = re.compile(r"Session ([0-9a-f-]{36}) saved")


def test_ask_json_and_markdown_say_what_the_answer_is(sample_cli: Cli):
    answered = sample_cli("ask", COMPOUND, "--json", "--quiet")
    assert answered.returncode == 0, answered.stderr
    record = json.loads(answered.stdout)
    assert record["answered"] is True and record["unanswered"] == [] and record["answer"].startswith("Dana Okafor")
    quote = record["citations"][0]
    assert quote["start_char"] <= quote["quote_start"] < quote["quote_end"] <= quote["end_char"]
    missing = json.loads(sample_cli("ask", "Who leads the team that owns Heron?", "--json", "--quiet").stdout)
    assert missing["answered"] is False and missing["unanswered"] == ["Who leads the team that owns Heron"]
    report = sample_cli("ask", COMPOUND, "--format", "markdown", "--quiet")
    assert report.stdout.startswith(f"# {COMPOUND}\n\n## Answer\n") and "## Sources\n\n1. **" in report.stdout
    text = sample_cli("ask", "Who leads the team that owns Heron?", "--quiet", "--no-cache").stdout
    assert "Not answered; finished within its limits" in text and "Complete" not in text


@pytest.mark.parametrize(
    "args",
    [
        ["--help"],
        ["ask", "Which team owns Keel?", "--quiet"],
        ["search", "Keel"],
        ["runs"],
        ["spend"],
        ["cache", "stats"],
        ["chat"],
        ["ingest", "--help"],
        ["config", "show"],
    ],
    ids=lambda a: a[0],
)
def test_no_command_prints_a_traceback_into_a_closed_pipe(sample_cli: Cli, args: list[str]):
    process = subprocess.Popen(
        [sys.executable, "-m", "quarry.agent.cli.main", *args],
        cwd=sample_cli.cwd,
        env=sample_cli.env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert process.stdout is not None
    process.stdout.close()  # like `| head -0`: the reader is gone before the first line
    _, stderr = process.communicate(b"Which team owns Keel?\n", timeout=300)
    assert b"Traceback" not in stderr and b"BrokenPipeError" not in stderr, stderr.decode()
    # Our own output stops quietly with 0; rich's console (tables, chat) exits 1 on a broken pipe, by design.
    assert process.returncode in (0, 1)


def test_piped_chat_has_no_prompts_in_stdout_and_resumes_by_prefix(sample_cli: Cli):
    first = _chat(sample_cli, [], "Who leads the team that owns Ledgerline?\nAnd where is that team based?\n")
    assert first.returncode == 0, first.stderr
    assert "you> " not in first.stdout + first.stderr
    assert "(researched as: Where is the Payments Core team based?)" in first.stdout and "Frankfurt" in first.stdout
    session_id = SESSION_ID.search(first.stdout).group(1)
    resumed = _chat(sample_cli, ["--session", session_id[:8]], "/history\n")
    assert resumed.returncode == 0, resumed.stderr
    assert f"Resumed session {session_id}" in resumed.stdout and "2 turn(s) so far" in resumed.stdout


def test_filters_ignore_case_and_dates_take_durations(sample_cli: Cli):
    found = sample_cli("search", "Keel", "--author", "ingrid SOLBERG")
    assert found.returncode == 0 and "keel.md" in found.stdout
    recent = sample_cli("search", "Keel", "--after", "7d")
    assert recent.returncode == 0 and "no passages found" in recent.stdout, "the sample documents are older"
    bad = sample_cli("search", "Keel", "--after", "soon")
    assert bad.returncode == 2 and "neither a duration" in bad.stderr


def _chat(cli: Cli, flags: list[str], script: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "quarry.agent.cli.main", "chat", *flags],
        input=script,
        cwd=cli.cwd,
        env=cli.env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_ask_streams_claudes_draft_on_stderr_and_prints_the_verified_answer(sample_cli: Cli):
    from tests.support.fakes.anthropic_server import FakeAnthropic, Reply
    from tests.support.fakes.research_replies import passages, task_of

    unsupported = "Ledgerline was rewritten in Haskell by contractors in Lisbon"

    def respond(body: dict) -> Reply:
        if task_of(body) != "synthesize":
            return Reply("team that owns Ledgerline")
        n = passages(body)["Ledgerline settlement service"]
        return Reply(f"ANSWER:\nPayments Core owns Ledgerline [{n}]. {unsupported} [{n}].\nGAPS:\n- none")

    fake = FakeAnthropic(responder=respond).start()
    try:
        claude = Cli(
            {**sample_cli.env, "ANTHROPIC_API_KEY": "test-key", "ANTHROPIC_BASE_URL": fake.base_url}, sample_cli.cwd
        )
        result = claude("ask", "Which team owns Ledgerline?", "--no-cache")
    finally:
        fake.stop()
    assert result.returncode == 0, result.stderr
    assert re.search(
        rf"\[draft, hop 1, unverified\] Payments Core owns Ledgerline \[\d\]\. {unsupported} \[\d\]\.\n", result.stderr
    )
    assert (
        "[draft, hop 1: 1 citation(s) dropped by verification; the answer printed is the checked one]" in result.stderr
    )
    assert "[draft" not in result.stdout and result.stdout.startswith("Payments Core owns Ledgerline [1].")
    assert "Citations dropped: 0 unresolved, 1 unsupported by their passage." in result.stdout
