"""`quarry chat` on a real pseudo-terminal and through pipes, then `quarry runs` and `quarry spend`
over what it recorded: real subprocesses, real PostgreSQL, the offline model."""

import json
import re
import sys

import pytest

from tests.e2e.conftest import Cli
from tests.support.fakes.terminal import Terminal

pytestmark = pytest.mark.integration

SESSION_ID = re.compile(r"Session ([0-9a-f-]{36})")


@pytest.fixture(scope="module")
def chat_transcript(sample_cli: Cli) -> dict[str, str]:
    """One scripted chat on a pty; later tests read what it left in the ledger."""
    terminal = Terminal([sys.executable, "-m", "quarry.agent.cli.main", "chat"], env=sample_cli.env, cwd=sample_cli.cwd)
    try:
        banner = terminal.expect("you> ")
        terminal.type("Which team owns Ledgerline?")
        first = terminal.expect("you> ")
        terminal.type("And who leads it?")
        second = terminal.expect("you> ")
        terminal.type("/sources")
        sources = terminal.expect("you> ")
        terminal.type("/open 1")
        opened = terminal.expect("you> ")
        terminal.type("/budget")
        budget = terminal.expect("you> ")
        terminal.type("/open 7")
        bad_open = terminal.expect("you> ")
        terminal.type("/quit")
        goodbye = terminal.expect("Resume it with")
        assert terminal.wait() == 0
    finally:
        terminal.close()
    return {
        "banner": banner,
        "first": first,
        "second": second,
        "sources": sources,
        "open": opened,
        "budget": budget,
        "bad_open": bad_open,
        "goodbye": goodbye,
        "raw": terminal.raw,
    }


def test_chat_on_a_terminal_answers_follow_ups_and_shows_sources(chat_transcript: dict[str, str]):
    t = chat_transcript
    assert SESSION_ID.search(t["banner"]) and "/help for commands" in t["banner"]
    assert "Payments Core owns Ledgerline" in t["first"] and "Sources:" in t["first"]
    assert "(researched as: Who leads Payments Core?)" in t["second"] and "Dana Okafor" in t["second"]
    assert "[1] Payments Core team" in t["sources"] and "payments-core.md" in t["sources"]
    assert "The team is led by Dana Okafor" in t["open"] and re.search(r"chars \d+-\d+", t["open"])
    assert re.search(r"used\s+[\d.]+ s\s+2 hops", t["budget"]) and "next turn may use" in t["budget"]
    assert "available: 1" in t["bad_open"]


def test_the_live_status_line_shows_node_hop_and_what_is_left(chat_transcript: dict[str, str]):
    from tests.support.fakes.terminal import plain

    screen = plain(chat_transcript["raw"])
    assert re.search(
        r"hop \d/3 · (cache_lookup|contextualize|plan|search|rerank|synthesize|reflect|finalize)\b.*left [\d.]+ s · [\d,]+ tokens · \$\d",
        screen,
    )
    assert "\x1b[" in chat_transcript["raw"], "on a terminal the status line is drawn with control codes"


def test_a_chat_resumes_by_id_and_refuses_another_reader(sample_cli: Cli, chat_transcript: dict[str, str]):
    session_id = SESSION_ID.search(chat_transcript["banner"]).group(1)
    resumed = _chat(sample_cli, ["--session", session_id], "/history\nwhat about Keel?\n/quit\n")
    assert resumed.returncode == 0, resumed.stderr
    assert "Resumed session" in resumed.stdout and "2 turn(s) so far" in resumed.stdout
    assert "1. Which team owns Ledgerline?" in resumed.stdout
    assert "2. And who leads it?  →  Who leads Payments Core?" in resumed.stdout
    assert "(researched as: Who leads Keel?)" in resumed.stdout
    stranger = _chat(sample_cli, ["--session", session_id, "--principal", "mallory"], "/quit\n")
    assert stranger.returncode == 2 and f"no session {session_id} for principal 'mallory'" in stranger.stderr
    assert "'cli'" not in stranger.stderr, "issue 20 M2: the refusal named the owner"
    other_groups = _chat(sample_cli, ["--session", session_id, "--groups", "finance"], "/quit\n")
    assert other_groups.returncode == 2 and "with groups finance" in other_groups.stderr


def test_chat_without_a_terminal_prints_no_control_codes(sample_cli: Cli):
    piped = _chat(sample_cli, [], "Which team owns Keel?\nwhich team owns keel\n/nonsense\n")
    assert piped.returncode == 0, piped.stderr
    assert "owns Keel" in piped.stdout and "Unknown command /nonsense" in piped.stdout
    assert piped.stdout.count("served from the semantic cache") == 1, "the repeated question is served, not researched"
    assert "synthesize ok" in piped.stderr, "progress goes to stderr as plain lines"
    assert "\x1b" not in piped.stdout + piped.stderr


def test_chat_with_no_cache_researches_every_turn(sample_cli: Cli):
    piped = _chat(sample_cli, ["--no-cache"], "Which team owns Keel?\nwhich team owns keel\n/quit\n")
    assert piped.returncode == 0, piped.stderr
    assert piped.stdout.count("owns Keel") >= 2 and "served from the semantic cache" not in piped.stdout
    assert piped.stderr.count("synthesize ok") == 2, "both turns were researched"


def test_chat_refuses_absurd_budgets(sample_cli: Cli):
    for flags, message in (
        (["--max-usd", "-1"], "--max-usd: must be 0 or more"),
        (["--session-max-hops", "0"], "--session-max-hops: must be at least 1"),
        (["--session", "not-a-uuid"], "is not a session id"),
    ):
        result = _chat(sample_cli, flags, "/quit\n")
        assert result.returncode == 2 and message in result.stderr, (flags, result.stderr)


def test_runs_lists_the_chat_and_shows_a_timeline(sample_cli: Cli, chat_transcript: dict[str, str]):
    listing = sample_cli("runs", "--json")
    assert listing.returncode == 0, listing.stderr
    runs = json.loads(listing.stdout)
    questions = [r["question"] for r in runs]
    assert "Which team owns Ledgerline?" in questions and "And who leads it?" in questions
    table = sample_cli("runs", "--limit", "2")
    assert table.returncode == 0 and "most recent run(s)" in table.stdout and "\x1b" not in table.stdout
    follow_up = next(r for r in runs if r["question"] == "And who leads it?")
    detail = sample_cli("runs", follow_up["id"][:8])
    assert detail.returncode == 0, detail.stderr
    out = detail.stdout
    assert f"Run {follow_up['id']}" in out and "Timeline" in out and "Model calls" in out
    for node in (
        "contextualize",
        "cache_lookup",
        "plan",
        "search",
        "rerank",
        "synthesize",
        "reflect",
        "finalize",
        "cache_store",
    ):
        assert re.search(rf"│ +[\d.]+ │ +[\d.]+ │ [·█]+ │ {node} ", out), node
    assert "Dana Okafor" in out
    as_json = json.loads(sample_cli("runs", follow_up["id"], "--json").stdout)
    assert as_json["summary"]["id"] == follow_up["id"] and as_json["trace"][0]["node"] == "contextualize"
    assert (
        sum(c["input_tokens"] + c["output_tokens"] for c in as_json["calls"] if c["kind"] == "llm")
        == follow_up["tokens"]
    )


def test_runs_refuses_unknown_ids(sample_cli: Cli):
    for given, message in (("zz", "is not a run id"), ("00000000-0000-0000-0000-000000000000", "no run")):
        result = sample_cli("runs", given)
        assert result.returncode == 2 and message in result.stderr


def test_spend_attributes_tokens_by_node_model_and_day(sample_cli: Cli, chat_transcript: dict[str, str]):
    rows = json.loads(sample_cli("spend", "--by", "node", "--json").stdout)
    by_node = {r["key"]: r for r in rows}
    assert {"contextualize", "plan", "search", "synthesize"} <= set(by_node)
    runs = json.loads(sample_cli("runs", "--json", "--limit", "1000").stdout)
    llm_tokens = sum(r["input_tokens"] + r["output_tokens"] for r in rows if r["key"] not in ("search", "cache_lookup"))
    assert llm_tokens == sum(r["tokens"] for r in runs), "every LLM token of every run is attributed to a node"
    models = {r["key"] for r in json.loads(sample_cli("spend", "--by", "model", "--json").stdout)}
    assert models == {"extractive", "all-MiniLM-L6-v2"}
    table = sample_cli("spend", "--by", "day", "--since", "1d")
    assert table.returncode == 0 and "Spend by day since" in table.stdout and "total" in table.stdout
    future = sample_cli("spend", "--since", "2999-01-01")
    assert future.returncode == 0 and "No spend recorded since" in future.stdout
    bad = sample_cli("spend", "--since", "yesterday")
    assert bad.returncode == 2 and "neither a duration" in bad.stderr


def _chat(cli: Cli, flags: list[str], script: str):
    import subprocess

    return subprocess.run(
        [sys.executable, "-m", "quarry.agent.cli.main", "chat", *flags],
        input=script,
        cwd=cli.cwd,
        env=cli.env,
        capture_output=True,
        text=True,
        timeout=300,
    )
