import json
import subprocess
import sys
from pathlib import Path

from tests.e2e.conftest import REPO, Cli, clean_env

GOOD = """---
title: Beacon event bus
author: Ana Ruiz
domain: engineering
published_at: 2023-06-01T12:00:00+02:00
access: [public]
tags: [events]
---
Beacon carries shipment events from depots to every downstream service.

Ledgerline consumes Beacon events to settle invoices.
"""
RESTRICTED = (
    GOOD.replace("Beacon event bus", "Beacon vendor contract")
    .replace("access: [public]", "access: [leadership]")
    .replace("Beacon carries", "The Beacon vendor contract with Northwind costs 2.1 million a year. Beacon carries")
)
BAD = GOOD.replace("published_at: 2023-06-01T12:00:00+02:00", "published_at: 2023-06-01T12:00:00")


def write_docs(folder: Path) -> Path:
    docs = folder / "docs"
    docs.mkdir()
    (docs / "beacon.md").write_text(GOOD)
    (docs / "contract.md").write_text(RESTRICTED)
    (docs / "bad.md").write_text(BAD)
    return docs


def test_help_is_fast_because_it_imports_no_model_or_driver():
    probe = (
        "import sys\nfrom agent.cli.main import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit as exit:\n    code = exit.code\n"
        "print(code, 'torch' in sys.modules, 'psycopg' in sys.modules, 'sentence_transformers' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=clean_env(), cwd=REPO)
    assert out.stdout.strip().splitlines()[-1] == "0 False False False"
    assert "ingest" in out.stdout and "search" in out.stdout and "doctor" in out.stdout


def test_ingest_then_search_as_a_user_would(cli: Cli, tmp_path: Path):
    docs = write_docs(tmp_path)
    ingest = cli("ingest", str(docs))
    assert ingest.returncode == 1, ingest.stderr
    assert (
        "refused docs/bad.md: field 'published_at' has no timezone: '2023-06-01T12:00:00' "
        "(write it with an offset, e.g. 2023-06-01T12:00:00Z)"
    ) in ingest.stderr
    assert ingest.stdout.startswith("ingested 2 (2 new, 0 updated), unchanged 0, refused 1;")

    search = cli("search", "who consumes shipment events?", "--json", "--k", "5")
    assert search.returncode == 0, search.stderr
    hits = json.loads(search.stdout)
    assert [h["title"] for h in hits] == ["Beacon event bus"], "the leadership-only document must not appear"
    hit = hits[0]
    assert {"chunk_id", "document_id", "title", "source", "start_char", "end_char", "text", "score"} <= hit.keys()
    assert hit["source"] == str(docs / "beacon.md")
    body = GOOD.split("---\n", 2)[2]
    assert body[hit["start_char"] : hit["end_char"]] == hit["text"]

    leadership = json.loads(cli("search", "vendor contract cost", "--json", "--groups", "leadership").stdout)
    assert [h["title"] for h in leadership] == ["Beacon vendor contract"]
    filtered = json.loads(cli("search", "events", "--json", "--domain", "security").stdout)
    assert filtered == []

    again = cli("ingest", str(docs / "beacon.md"), "--quiet")
    assert again.returncode == 0 and again.stdout.startswith("ingested 0 (0 new, 0 updated), unchanged 1, refused 0;")


def test_bad_arguments_exit_2_with_a_clear_message(cli: Cli):
    empty = cli("search", "  ")
    assert empty.returncode == 2 and "the query is empty" in empty.stderr
    naive = cli("search", "x", "--after", "2024-01-01T00:00:00")
    assert naive.returncode == 2 and "'2024-01-01T00:00:00' has no timezone" in naive.stderr
    backwards = cli("search", "x", "--after", "2024-02-01", "--before", "2024-01-01")
    assert backwards.returncode == 2 and "must be before published_before" in backwards.stderr
    zero = cli("search", "x", "--k", "0")
    assert zero.returncode == 2 and "must be at least 1, got 0" in zero.stderr


def test_config_errors_exit_2(cli: Cli, tmp_path: Path):
    config = tmp_path / "broken.yaml"
    config.write_text("chunking:\n  max_tokns: 3\n")
    result = cli("--config", str(config), "doctor")
    assert result.returncode == 2
    assert "chunking.max_tokns: unknown key; allowed here: max_tokens, overlap_tokens" in result.stderr


def test_dead_database_exits_3_without_a_traceback(cli: Cli):
    cli.env["QUARRY_DATABASE_URL"] = "postgresql://nobody:secret@127.0.0.1:1/none"
    cli.env["QUARRY_DATABASE__CONNECT_TIMEOUT_S"] = "2"
    result = cli("search", "anything")
    assert result.returncode == 3
    assert result.stderr.startswith("quarry: cannot connect to PostgreSQL at postgresql://nobody:***@127.0.0.1:1/none")
    assert "Traceback" not in result.stderr and "secret" not in result.stderr


def test_embedded_database_starts_in_the_data_dir(tmp_path: Path):
    data = tmp_path / "quarry-data"
    result = subprocess.run(
        [sys.executable, "-m", "quarry.agent.cli.main", "doctor", "--skip-model"],
        cwd=tmp_path,
        env=clean_env(QUARRY_DATA_DIR=str(data)),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "ok   database     PostgreSQL 16" in result.stdout and str(data / "pg") in result.stdout
    assert "ok   corpus       0 documents, 0 chunks, version 0" in result.stdout
    assert (data / "pg" / "PG_VERSION").exists()


def test_options_not_built_yet_are_refused_not_ignored(cli: Cli):
    cli.env["QUARRY_ENTITIES__EXTRACTOR"] = "claude"
    result = cli("search", "anything")
    assert result.returncode == 2
    assert "entities.extractor 'claude' is not available yet" in result.stderr
