"""`quarry ingest --dry-run` over PDFs, HTML and a few bad files, as a user runs it: what each document
would get and from where, every refusal and skipped file with its reason, and nothing written."""

from pathlib import Path

from tests.e2e.conftest import Cli, clean_env
from tests.support.document_corpus import write_document_corpus
from tests.support.document_files import make_pdf


def test_dry_run_lists_fields_and_origins_and_writes_nothing(tmp_path: Path):
    cli = Cli(clean_env(QUARRY_DATA_DIR=str(tmp_path / "data")), tmp_path)  # no database: a dry run opens none
    docs = write_document_corpus(tmp_path / "docs")
    make_pdf(docs / "anonymous.pdf", ["A report nobody signed."])
    (docs / "notes.txt").write_bytes("Réunion à 9h.".encode("latin-1"))
    (docs / "photo.bin").write_bytes(b"\x00\x01")
    result = cli("ingest", str(docs), "--domain", "oceans", "--access", "public", "--dry-run")
    assert result.returncode == 1, result.stderr
    out = result.stdout
    assert (
        "would ingest docs/survey.pdf (read as a PDF, 3 pages)\n  title         Buoy survey 2024   ← the PDF's Info/XMP\n"
        in out
    )
    assert "  author        Per Lund   ← the page's <title>/<meta>\n" in out
    assert "  domain        oceans   ← --domain\n" in out
    assert (
        "refused docs/anonymous.pdf: missing 'author' (not in docs/anonymous.pdf.meta.yaml, not in the PDF's "
        "Info/XMP; pass --author or add a sidecar)\n"
    ) in out
    assert "refused docs/notes.txt: not valid UTF-8 text (byte 0xe9 at offset 1); it reads as Latin-1" in out
    assert "skipped docs/photo.bin: not a document type Quarry reads (.bin)\n" in out
    assert out.endswith("dry run: 4 would be ingested, 2 refused, 1 skipped; nothing was written.\n")
    assert not (tmp_path / "data").exists(), "a dry run opens no database and writes nothing"

    titled = cli(
        "ingest",
        str(docs / "survey.pdf"),
        "--domain",
        "oceans",
        "--access",
        "public",
        "--title",
        "Survey, as I call it",
        "--dry-run",
    )
    assert "  title         Survey, as I call it   ← --title\n" in titled.stdout
