"""Generated PDFs and HTML pages ingested into PostgreSQL and researched with the offline model: a
multi-hop answer cites both PDFs with their pages, an HTML answer cites its section, and the
stored text still holds every cited passage at its offsets."""

import asyncio
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from quarry.agent.components import Components
from quarry.agent.passages import open_citation
from quarry.corpus.filters import Principal
from quarry.corpus.loaders import load_paths
from quarry.graph.answer import Answer
from quarry.graph.engine import ResearchRequest
from tests.support.document_corpus import DEFAULTS, HTML_QUESTION, QUESTION, write_document_corpus
from tests.support.document_files import make_pdf
from tests.support.helpers import isolated_settings

PUBLIC = Principal(id="reader", groups=("public",))


@pytest.fixture(scope="module")
def docs_folder(tmp_path_factory) -> Path:
    return write_document_corpus(tmp_path_factory.mktemp("corpus") / "docs")


@pytest.fixture(scope="module")
def documents(pg_url, embedder, tmp_path_factory, docs_folder) -> Iterator[Components]:
    root = tmp_path_factory.mktemp("documents")
    settings = isolated_settings(
        pg_url, root / "data", schema=f"d_{uuid.uuid4().hex[:12]}", overrides={"cache.enabled": False}
    )
    components = Components(settings, environ={}, embedder=embedder)
    report = components.ingestor.ingest_paths([docs_folder], defaults=DEFAULTS)
    assert report.refused == [] and report.ingested == 4 and report.assets_written == 1
    yield components
    components.db.drop_schema()
    components.close()


def ask(components: Components, question: str) -> Answer:
    return asyncio.run(components.engine.run(ResearchRequest(question=question, principal=PUBLIC))).answer


def test_multi_hop_answer_cites_both_pdfs_with_page_numbers(documents):
    answer = ask(documents, QUESTION)
    assert "Ines Aalto" in answer.text and not answer.partial
    cited = {(Path(c.source).name, c.page) for c in answer.citations}
    assert ("tidewatch.pdf", 2) in cited
    assert {("survey.pdf", 2), ("survey.pdf", 3)} & cited
    for citation in answer.citations:
        assert citation.page is not None and citation.location().startswith("p")
        passage = open_citation(documents.store, citation, PUBLIC)
        assert not passage.changed and passage.cited == citation.quote and citation.quote in citation.text
    record = answer.dump()["citations"][0]
    assert record["page"] == answer.citations[0].page and "page_end" in record and record["section"] is None
    assert Answer.load(answer.dump()).citations == answer.citations


def test_html_answer_cites_its_section(documents):
    answer = ask(documents, HTML_QUESTION)
    assert "Thursday" in answer.text
    cited = [c for c in answer.citations if c.source.endswith("harbour.html")]
    citation = next(c for c in cited if "Thursday" in c.quote)
    assert citation.section == "Harbour office › Sampling" and citation.page is None
    assert citation.location() == "§ Harbour office › Sampling"


def test_a_pdf_figure_is_stored_and_cited_with_its_page(documents):
    answer = ask(documents, "Which figure shows the monthly mean wave height at Skerry-7?")
    [figure] = [c for c in answer.citations if c.image is not None]
    assert figure.page == 2 and figure.text.startswith("Figure 1: Monthly mean wave height")
    assert (figure.image.mime, figure.image.width, figure.image.height) == ("image/png", 240, 160)
    assert Path(figure.image.path).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_reingest_skips_unchanged_pdfs_and_replaces_a_changed_one(documents, docs_folder):
    again = documents.ingestor.ingest_paths([docs_folder], defaults=DEFAULTS)
    assert again.ingested == 0 and len(again.unchanged) == 4
    make_pdf(
        docs_folder / "tidewatch.pdf",
        ["Tidewatch group annual report", "People.\nThe Tidewatch group is led by Ines Aalto since 2020."],
        title="Tidewatch group annual report",
        author="Ola Berg",
    )
    changed = documents.ingestor.ingest_paths([docs_folder / "tidewatch.pdf"], defaults=DEFAULTS)
    assert [Path(label).name for label in changed.replaced] == ["tidewatch.pdf"]
    [document] = load_paths([docs_folder / "tidewatch.pdf"], defaults=DEFAULTS)
    stored = documents.store.document(document.id)
    assert stored is not None and stored.version == 2 and "since 2020" in stored.body
