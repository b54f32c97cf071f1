"""PDF, HTML and Word files through load_paths: readers chosen by content, text with page and section
positions, metadata precedence, and a one-line refusal for every hard case."""

from datetime import UTC, datetime
from pathlib import Path

import pytest

from quarry.corpus.config import ChunkingConfig
from quarry.corpus.documents import ReadOptions
from quarry.corpus.loaders import Refusal, load_paths
from quarry.corpus.metadata import SourceDocument
from quarry.corpus.provenance import layout_chunks
from tests.support.document_files import (
    EXTERNAL_TEMPLATE,
    make_docx,
    make_many_page_pdf,
    make_pdf,
    make_pdf_with_figure,
    make_scanned_pdf,
    page_html,
    rewrite_docx,
)

DEFAULTS = {"domain": "oceans", "access": ["public"]}
FULL = {**DEFAULTS, "author": "Default Author", "published_at": "2024-01-01"}
SURVEY_PAGES = [
    "Buoy survey 2024\nIntroduction to the coastal survey.",
    "The buoy array Skerry-7 failed in the March 2024 storm.\nIts mooring line parted.",
    "The Skerry-7 array is maintained by the Tidewatch group.",
]


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)


def load_one(path: str, defaults: dict | None = None, **options) -> SourceDocument | Refusal:
    overrides = {key: options.pop(key) for key in ("title", "published_at") if key in options}
    read = ReadOptions(overrides=overrides, **options)
    [result] = list(load_paths([Path(path)], defaults=defaults or FULL, options=read))
    return result


def test_pdf_text_keeps_pages_and_offsets_and_takes_info_metadata():
    make_pdf(Path("survey.pdf"), SURVEY_PAGES, title="Buoy survey 2024", author="Mira Holt")
    document = load_one("survey.pdf", DEFAULTS | {"published_at": "2024-05-01"})
    assert isinstance(document, SourceDocument)
    assert document.metadata.title == "Buoy survey 2024" and document.metadata.author == "Mira Holt"
    assert (
        document.field_sources["title"] == "the PDF's Info/XMP"
        and document.field_sources["author"] == "the PDF's Info/XMP"
    )
    assert document.field_sources["published_at"] == "the PDF's Info/XMP", "the file's own date beats a default"
    assert len(document.page_starts) == 3 and document.page_starts[0] == 0
    second = document.text.index("The buoy array Skerry-7")
    assert document.page_starts[1] <= second < document.page_starts[2]
    chunks = layout_chunks(document, ChunkingConfig(max_tokens=16, overlap_tokens=0))
    for chunk in chunks:
        assert document.text[chunk.start_char : chunk.end_char] == chunk.text
    assert [c.ordinal for c in chunks] == list(range(len(chunks)))
    pages = {c.text: (c.page_first, c.page_last) for c in chunks}
    assert pages["The Skerry-7 array is maintained by the Tidewatch group."] == (3, 3)
    assert all(first == last for first, last in pages.values()), "a chunk keeps to one page"
    assert {first for first, _ in pages.values()} == {1, 2, 3}


def test_pdf_creation_date_is_the_published_date_when_nothing_else_gives_one():
    make_pdf(Path("a.pdf"), ["Some text on a page."], title="A", author="B")
    document = load_one("a.pdf", DEFAULTS)
    assert isinstance(document, SourceDocument) and document.field_sources["published_at"] == "the PDF's Info/XMP"
    assert document.metadata.published_at.year == 2000  # reportlab's invariant mode stamps 2000-01-01


def test_missing_author_names_every_place_looked():
    make_pdf(Path("x.pdf"), ["Text without an author."])  # reportlab writes Author "anonymous": a placeholder
    assert load_one("x.pdf", DEFAULTS) == Refusal(
        "x.pdf",
        "missing 'author' (not in x.pdf.meta.yaml, not in the PDF's Info/XMP; pass --author or add a sidecar)",
    )


def test_sidecar_beats_file_properties_beats_defaults_and_overrides_beat_all():
    make_pdf(Path("r.pdf"), ["Report text."], title="Info title", author="Info author")
    Path("r.pdf.meta.yaml").write_text("author: Sidecar Author\n")
    document = load_one("r.pdf")
    assert isinstance(document, SourceDocument)
    assert (document.metadata.author, document.field_sources["author"]) == (
        "Sidecar Author",
        "sidecar 'r.pdf.meta.yaml'",
    )
    assert (document.metadata.title, document.field_sources["title"]) == ("Info title", "the PDF's Info/XMP")
    assert document.field_sources["domain"] == "--domain"
    overridden = load_one("r.pdf", title="Given title", published_at="2023-02-03")
    assert isinstance(overridden, SourceDocument) and overridden.metadata.title == "Given title"
    assert overridden.field_sources["title"] == "--title"
    assert overridden.metadata.published_at == datetime(2023, 2, 3, tzinfo=UTC)


def test_published_at_flag_overrides_a_bad_date_in_front_matter():
    Path("n.md").write_text("---\npublished_at: last tuesday\n---\n# Field notes\nThe tide was low.\n")
    assert isinstance(load_one("n.md"), Refusal)
    fixed = load_one("n.md", published_at="2024-06-01")
    assert isinstance(fixed, SourceDocument)
    assert (fixed.metadata.title, fixed.field_sources["title"]) == ("Field notes", "first heading")
    assert fixed.metadata.published_at == datetime(2024, 6, 1, tzinfo=UTC)


def test_title_falls_back_to_the_file_name():
    Path("harbour-log.txt").write_text("Nothing but text.")
    document = load_one("harbour-log.txt")
    assert isinstance(document, SourceDocument)
    assert (document.metadata.title, document.field_sources["title"]) == ("harbour-log", "file name")


def test_latin1_text_is_refused_with_the_fix_or_read_with_encoding():
    Path("café.txt").write_bytes("Le café est fermé.".encode("latin-1"))
    refusal = load_one("café.txt")
    assert refusal == Refusal(
        "café.txt",
        "not valid UTF-8 text (byte 0xe9 at offset 6); it reads as Latin-1/windows-1252: pass --encoding "
        "windows-1252, or convert it with `iconv -f WINDOWS-1252 -t UTF-8 'café.txt' > converted.txt`",
    )
    document = load_one("café.txt", encoding="windows-1252")
    assert isinstance(document, SourceDocument) and document.text == "Le café est fermé."


@pytest.mark.parametrize(
    ("make", "options", "reason"),
    [
        (
            lambda p: make_pdf(p, ["secret"], encrypt="hunter2"),
            {},
            "is encrypted (pass --pdf-password, or save a copy without the password)",
        ),
        (
            lambda p: make_pdf(p, ["secret"], encrypt="hunter2"),
            {"pdf_password": "wrong"},
            "is encrypted and the --pdf-password given does not open it",
        ),
        (
            make_scanned_pdf,
            {},
            "no text layer in its 1 page(s) (a scanned PDF? run OCR first, e.g. `ocrmypdf in.pdf out.pdf`, "
            "and ingest the result)",
        ),
        (
            lambda p: p.write_bytes(make_pdf(Path("whole.pdf"), ["a full page of text"] * 3).read_bytes()[:700]),
            {},
            "is not a readable PDF: corrupt or truncated (PDFium: Data format error)",
        ),
        (
            lambda p: make_many_page_pdf(p, 30),
            {"max_pdf_pages": 20},
            "has 30 pages, over the 20-page limit (raise ingest.max_pdf_pages)",
        ),
        (
            lambda p: p.write_text("just some text"),
            {},
            "is named .pdf but its content is plain text, not a PDF (rename it to what it is, or replace it "
            "with the real file)",
        ),
    ],
    ids=["encrypted", "wrong-password", "scanned", "truncated", "page-cap", "suffix-lies"],
)
def test_hard_pdf_cases_are_refused_in_one_line(make, options, reason):
    make(Path("hard.pdf"))
    assert load_one("hard.pdf", **options) == Refusal("hard.pdf", reason)


def test_encrypted_pdf_opens_with_its_password():
    make_pdf(Path("locked.pdf"), ["The vault code is in the ledger."], encrypt="hunter2")
    document = load_one("locked.pdf", pdf_password="hunter2")
    assert isinstance(document, SourceDocument) and "vault code" in document.text


def test_a_pdf_with_thousands_of_pages_is_read_page_by_page():
    make_many_page_pdf(Path("register.pdf"), 2000)
    document = load_one("register.pdf")
    assert isinstance(document, SourceDocument) and len(document.page_starts) == 2000
    last = document.text.index("Entry 2000 reads ready.")
    assert document.page_starts[-1] <= last


def test_content_decides_the_reader_not_the_name():
    make_pdf(Path("report.txt"), ["A PDF saved with the wrong name."], title="Named wrong", author="A")
    Path("page.pdf").write_text(page_html("Saved page", [("Body", "A page saved as .pdf.")]))
    as_pdf, as_html = list(load_paths([Path("report.txt"), Path("page.pdf")], defaults=FULL))
    assert isinstance(as_pdf, SourceDocument) and as_pdf.page_starts and as_pdf.metadata.title == "Named wrong"
    assert isinstance(as_html, SourceDocument) and as_html.sections and "saved as .pdf" in as_html.text


def test_html_main_content_sections_and_head_metadata():
    html = page_html(
        "Tidewatch group",
        [("People", "The Tidewatch group is led by Ines Aalto."), ("Sampling", "Samples are taken weekly.")],
        author="Ola Berg",
        published="2024-02-10T08:00:00+01:00",
    )
    Path("tidewatch.html").write_text(html)
    document = load_one("tidewatch.html", DEFAULTS)
    assert isinstance(document, SourceDocument)
    assert "Home" not in document.text and "trackVisitor" not in document.text and "Copyright" not in document.text
    assert document.metadata.author == "Ola Berg" and document.metadata.title == "Tidewatch group"
    assert document.metadata.published_at == datetime(2024, 2, 10, 7, tzinfo=UTC)
    assert document.metadata.language == "en"
    assert [path for _, path in document.sections] == [
        "Tidewatch group",
        "Tidewatch group › People",
        "Tidewatch group › Sampling",
    ]
    offset = dict((path, at) for at, path in document.sections)["Tidewatch group › People"]
    assert document.text[offset:].startswith("People\n\nThe Tidewatch group is led by Ines Aalto.")


def test_html_json_ld_and_declared_charset():
    page = (
        '<html><head><meta charset="iso-8859-1"><title>Caf\xe9 notes</title>'
        '<script type="application/ld+json">{"datePublished": "2023-09-01", "author": {"name": "Zo\xe9 Paris"}}'
        "</script></head><body><p>Le caf\xe9 du port.</p></body></html>"
    )
    Path("cafe.html").write_bytes(page.encode("latin-1"))
    document = load_one("cafe.html", DEFAULTS)
    assert isinstance(document, SourceDocument)
    assert document.text == "Le café du port." and document.metadata.title == "Café notes"
    assert document.metadata.author == "Zoé Paris"
    assert document.metadata.published_at == datetime(2023, 9, 1, tzinfo=UTC)


def test_html_over_the_size_cap_is_refused():
    Path("big.html").write_text("<html><body>" + "<p>word</p>" * 500 + "</body></html>")
    [result] = list(load_paths([Path("big.html")], defaults=FULL, max_bytes=1_000))
    assert result == Refusal(
        "big.html", "is 5,526 bytes, over the 1,000-byte limit (raise ingest.max_document_bytes in config.yaml)"
    )


def test_docx_headings_tables_and_core_properties():
    make_docx(
        Path("plan.docx"),
        [("h1", "Methods"), ("h2", "Sampling"), ("p", "We sample weekly."), ("table", "site|depth;A|12 m")],
        title="Field plan",
        author="Kai Moe",
        created=datetime(2022, 3, 4, 5, 6, 7),
    )
    document = load_one("plan.docx", DEFAULTS)
    assert isinstance(document, SourceDocument)
    assert (document.metadata.title, document.metadata.author) == ("Field plan", "Kai Moe")
    assert document.metadata.published_at == datetime(2022, 3, 4, 5, 6, 7, tzinfo=UTC)
    assert document.text == "Methods\n\nSampling\n\nWe sample weekly.\n\nsite | depth\nA | 12 m"
    assert document.sections == ((0, "Methods"), (9, "Methods › Sampling"))


def test_docx_zip_bomb_and_external_references_are_refused():
    make_docx(Path("bomb.docx"), [("p", "hello")], title="t", author="a")
    rewrite_docx(Path("bomb.docx"), add={"word/media/filler.bin": b"\0" * 3_000_000})
    [bomb] = list(load_paths([Path("bomb.docx")], defaults=FULL))
    assert isinstance(bomb, Refusal) and bomb.reason.startswith("would unpack to more than")
    assert bomb.reason.endswith("refused as a zip bomb") and "'word/media/filler.bin'" in bomb.reason
    make_docx(Path("linked.docx"), [("p", "hello")], title="t", author="a")
    rewrite_docx(Path("linked.docx"), relationship=EXTERNAL_TEMPLATE)
    assert load_one("linked.docx") == Refusal(
        "linked.docx",
        "refers to an external attachedTemplate 'http://attacker.invalid/template.dotm' (in "
        "word/_rels/document.xml.rels); Quarry fetches nothing from outside a document: remove the link or save "
        "a copy with the linked content embedded",
    )


def test_a_zip_named_docx_is_refused():
    import zipfile

    with zipfile.ZipFile("fake.docx", "w") as archive:
        archive.writestr("readme.txt", "not word")
    assert load_one("fake.docx") == Refusal(
        "fake.docx",
        "is named .docx but its content is a ZIP archive, not a Word (.docx) file (rename it to what it is, "
        "or replace it with the real file)",
    )


def test_html_text_directly_in_divs_is_kept_once():
    Path("divs.html").write_text(
        "<html><body><main><div>Loose text in a div.</div><div><p>Inner paragraph.</p></div>"
        "<ul><li><p>Item text.</p></li></ul></main></body></html>"
    )
    document = load_one("divs.html")
    assert isinstance(document, SourceDocument)
    assert document.text == "Loose text in a div.\n\nInner paragraph.\n\nItem text."


def test_pdf_figures_with_a_caption_line_become_assets_and_icons_are_skipped():
    from quarry.corpus.ingest import _chunks

    make_pdf_with_figure(Path("waves.pdf"), title="Wave report", author="Mira Holt")
    document = load_one("waves.pdf")
    assert isinstance(document, SourceDocument)
    [figure] = document.assets  # the 12×12 bullet is decoration
    assert (figure.mime, figure.width, figure.height) == ("image/png", 240, 160)
    assert figure.caption == "Figure 1: Monthly mean wave height at Skerry-7, March to June."
    assert document.text[figure.caption_start : figure.caption_end] == figure.caption
    [caption_chunk] = [c for c in _chunks(document, ChunkingConfig()) if c.asset_ordinal == 0]
    assert (caption_chunk.page_first, caption_chunk.page_last, caption_chunk.text) == (2, 2, figure.caption)
