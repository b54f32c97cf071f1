"""`quarry ask` as a user runs it: progress on stderr, the answer on stdout, JSON for machines,
precise errors for bad budgets."""

import json

from tests.e2e.conftest import REPO, Cli

QUESTION = "Who leads the team that owns the service that failed in the March 2024 settlement outage?"


def test_ask_prints_answer_citations_and_spend_then_json(cli: Cli):
    assert cli("ingest", str(REPO / "examples" / "corpus")).returncode == 0
    text = cli("ask", QUESTION)
    assert text.returncode == 0, text.stderr
    assert "Dana Okafor" in text.stdout and "\nSources:\n  [1] " in text.stdout
    assert "payments-core.md" in text.stdout and "Answered; finished within its limits after " in text.stdout
    assert "Spend: $0.000000" in text.stdout and "  synthesize  $0.000000" in text.stdout
    assert "plan" in text.stderr and "finalize" in text.stderr and "\x1b[" not in text.stderr + text.stdout

    partial = cli("ask", QUESTION, "--json", "--max-hops", "1", "--quiet", "--no-cache")
    assert partial.returncode == 0 and partial.stderr == ""
    result = json.loads(partial.stdout)
    assert {"answer", "citations", "partial", "stopped_by", "hops", "spend", "run_id", "elapsed_s"} <= set(result)
    assert result["partial"] is True and result["stopped_by"] == "hops" and result["hops"] == 1
    assert {"usd", "input_tokens", "output_tokens", "by_node"} <= set(result["spend"])
    for citation in result["citations"]:
        assert {"document_id", "title", "source", "start_char", "end_char", "text"} <= set(citation)
    assert result["cache_hit"] is False and result["saved_usd"] == 0.0, "--no-cache researched afresh"

    repeated = cli("ask", QUESTION, "--json", "--quiet")
    served = json.loads(repeated.stdout)
    assert served["cache_hit"] is True and served["saved_usd"] == 0.0 and served["partial"] is False
    assert served["answer"] == json.loads(cli("ask", QUESTION, "--json", "--quiet").stdout)["answer"]
    assert "Answered; served from the semantic cache (answer of run " in cli("ask", QUESTION).stdout


def test_absurd_budgets_are_usage_errors(cli: Cli):
    negative = cli("ask", QUESTION, "--max-usd", "-1")
    assert negative.returncode == 2 and "--max-usd: must be 0 or more, got -1" in negative.stderr
    zero = cli("ask", QUESTION, "--max-seconds", "0")
    assert zero.returncode == 2 and "must be a positive number, got 0" in zero.stderr
    empty = cli("ask", "  ")
    assert empty.returncode == 2 and "the question is empty" in empty.stderr
