import hashlib
import json
from pathlib import Path

import pytest

from quarry.corpus.loaders import Refusal, Skipped, load_paths
from quarry.corpus.metadata import SourceDocument

FRONT = """---
title: Ledgerline
author: Priya Raman
domain: engineering
published_at: 2024-03-12T09:00:00Z
access: [public]
---
Ledgerline settles invoices.
"""
SIDECAR = (
    "title: Beacon\nauthor: Ana Ruiz\ndomain: engineering\npublished_at: 2023-01-01T00:00:00+01:00\naccess: public\n"
)
RECORD_META = {
    "title": "Tidewater",
    "author": "Bo Chen",
    "domain": "engineering",
    "published_at": "2024-01-01T00:00:00Z",
    "access": ["public"],
}


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)


def load(*paths: str, **kwargs) -> list:
    return list(load_paths([Path(p) for p in paths], **kwargs))


def test_front_matter_document_body_excludes_metadata(tmp_path: Path):
    Path("a.md").write_text(FRONT)
    [doc] = load("a.md")
    assert isinstance(doc, SourceDocument)
    assert doc.text == "Ledgerline settles invoices.\n"
    assert doc.metadata.source == str(tmp_path / "a.md")
    assert doc.label == "a.md"


def test_sidecar_supplies_metadata_for_plain_text():
    Path("c.txt").write_text("Beacon is the event bus.")
    Path("c.txt.meta.yaml").write_text(SIDECAR)
    [doc] = load(".")
    assert isinstance(doc, SourceDocument) and doc.metadata.title == "Beacon"


def test_jsonl_records_are_documents_and_bad_lines_are_refused_alone():
    lines = [
        json.dumps({"text": "Tidewater forecasts demand.", "metadata": RECORD_META}),
        "not json",
        json.dumps({"text": "", "metadata": RECORD_META}),
        json.dumps({"text": "x", "metadata": RECORD_META, "extra": 1}),
    ]
    Path("r.jsonl").write_text("\n".join(lines) + "\n")
    results = load("r.jsonl")
    assert isinstance(results[0], SourceDocument)
    assert results[0].metadata.source.endswith(
        "r.jsonl#sha256:" + hashlib.sha256(b"Tidewater forecasts demand.").hexdigest()[:24]
    )
    assert results[1:] == [
        Refusal("r.jsonl:2", "not valid JSON: Expecting value at column 1"),
        Refusal("r.jsonl:3", "missing or empty 'text' (each record needs the document text as a string)"),
        Refusal("r.jsonl:4", "unknown key 'extra' in record (a record has 'text', 'metadata' and 'images')"),
    ]


def test_cli_defaults_fill_gaps_but_document_metadata_wins():
    Path("a.md").write_text(FRONT)
    Path("b.txt").write_text("No metadata at all.")
    a, b = load("a.md", "b.txt", defaults={"author": "Default Person", "domain": "misc", "access": ["team"]})
    assert a.metadata.author == "Priya Raman"
    assert isinstance(b, Refusal)
    assert b.reason == (  # the title falls back to the file name; a date never is guessed
        "missing required field 'published_at' (set it in front matter or a sidecar 'b.txt.meta.yaml' "
        "or pass --published-at)"
    )


def test_unclosed_front_matter_is_a_parse_refusal():
    Path("a.md").write_text("---\ntitle: x\nbody without end\n")
    [result] = load("a.md")
    assert result == Refusal("a.md", "front matter starts with '---' but has no closing '---' line")


def test_malformed_yaml_names_the_line():
    Path("a.md").write_text("---\ntitle: [unclosed\nauthor: x\n---\nbody\n")
    [result] = load("a.md")
    assert isinstance(result, Refusal) and result.reason.startswith("front matter is not valid YAML")
    assert "line" in result.reason


def test_metadata_given_twice_is_refused():
    Path("a.md").write_text(FRONT)
    Path("a.md.meta.yaml").write_text(SIDECAR)
    [result] = load("a.md")
    assert result == Refusal("a.md", "metadata given twice, in front matter and in 'a.md.meta.yaml' (keep one)")


def test_oversize_and_binary_and_empty_files_are_refused():
    Path("big.md").write_text(FRONT + "x" * 5000)
    Path("bin.txt").write_bytes(b"\xff\xfe\x00garbage")
    Path("empty.md").write_text(FRONT.split("Ledgerline settles")[0])
    results = {r.label: r for r in load("big.md", "bin.txt", "empty.md", max_bytes=1000)}
    assert results["big.md"].reason.startswith("is 5,1")
    assert results["big.md"].reason.endswith(
        "over the 1,000-byte limit (raise ingest.max_document_bytes in config.yaml)"
    )
    assert results["bin.txt"].reason == "not valid UTF-8 text (byte 0xff at offset 0)"
    assert results["empty.md"].reason == "has no text"


def test_unsupported_type_refused_when_named_and_skipped_in_folders():
    Path("d").mkdir()
    Path("d/pic.png").write_bytes(b"\x89PNG")
    Path("d/data.bin").write_bytes(b"\x00\x01")
    assert load("d") == [
        Skipped("d/data.bin", "not a document type Quarry reads (.bin)"),
        Skipped("d/pic.png", "an image without a sidecar (taken to belong to a Markdown document)"),
    ]
    assert load("d/pic.png") == [
        Refusal("d/pic.png", "an image needs a sidecar 'pic.png.meta.yaml' with its metadata and a caption")
    ]
    assert load("d/data.bin") == [
        Refusal(
            "d/data.bin",
            "unsupported file type '.bin' (Quarry reads .md, .markdown, .txt, "
            ".jsonl, and images with a sidecar NAME.png.meta.yaml)",
        )
    ]
    assert load("missing.md") == [Refusal("missing.md", "no such file or folder")]


def test_content_hash_changes_with_metadata_alone():
    Path("a.md").write_text(FRONT)
    [before] = load("a.md")
    Path("a.md").write_text(FRONT.replace("access: [public]", "access: [security]"))
    [after] = load("a.md")
    assert before.id == after.id and before.text == after.text
    assert before.content_hash != after.content_hash
