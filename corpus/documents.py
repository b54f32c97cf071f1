"""PDF, HTML and Word files as documents: which reader a file needs (by its content, not its name), the
text it yields, and its metadata resolved from the sidecar, the file's own properties and the flags.

A file named `.pdf`/`.docx`/`.html` whose content is something else is refused naming both; a file
whose name says text but whose content is a PDF or a Word file is read as what it is.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from quarry.corpus.images import ImageAsset, ImageProblem, check_image
from quarry.corpus.metadata import SourceDocument
from quarry.corpus.metadata_sources import Layer, flag_layer, properties_layer, resolve, source_layer
from quarry.corpus.readers.pdf_images import PageFigure
from quarry.corpus.readers.sniff import KIND_NAMES, sniff
from quarry.corpus.readers.types import DocumentKind, Extracted
from quarry.errors import DocumentParseError

DOCUMENT_SUFFIXES: dict[str, DocumentKind] = {".pdf": "pdf", ".html": "html", ".htm": "html", ".docx": "docx"}
PLAIN_SUFFIXES = (".md", ".markdown", ".txt")
DEFAULT_MAX_PDF_PAGES = 10_000
DEFAULT_MAX_FILE_BYTES = 200_000_000
_OTHER_LOADERS = (".jsonl", ".png", ".jpg", ".jpeg", ".gif", ".webp", ".yaml")
_READ_AS = {"pdf": "a PDF", "html": "an HTML page", "docx": "a Word (.docx) file"}


@dataclass(frozen=True, kw_only=True, slots=True)
class ReadOptions:
    """How documents are read, beyond the metadata defaults: from `quarry ingest` flags and config."""

    overrides: Mapping[str, Any] = field(default_factory=dict)
    """--title / --published-at: win over what any document says."""
    pdf_password: str | None = None
    encoding: str | None = None
    """--encoding: how to decode text files that are not UTF-8."""
    max_pdf_pages: int = DEFAULT_MAX_PDF_PAGES
    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES
    """Cap on a PDF or Word file's size on disk (its text is capped by ingest.max_document_bytes)."""


def document_kind(path: Path, label: str, *, explicit: bool) -> DocumentKind | None:
    """The reader `path` needs, or None when it is for the text/JSONL/image loaders (or not read at all)."""
    suffix = path.suffix.lower()
    claimed = DOCUMENT_SUFFIXES.get(suffix)
    if claimed is None and suffix not in PLAIN_SUFFIXES and (not explicit or suffix in _OTHER_LOADERS):
        return None  # JSONL, images and sidecars have loaders of their own; unknown files are sniffed only when named
    found = sniff(path)
    if found in ("pdf", "docx"):
        return "pdf" if found == "pdf" else "docx"
    if found == "html" and suffix not in PLAIN_SUFFIXES:
        return "html"
    if claimed == "html" and found == "text":
        return "html"  # a fragment without <html>: still a page
    if claimed is not None:
        raise DocumentParseError(
            label,
            f"is named {suffix} but its content is {KIND_NAMES[found]}, not {_READ_AS[claimed]} "
            "(rename it to what it is, or replace it with the real file)",
        )
    return None


def load_document(
    path: Path,
    label: str,
    kind: DocumentKind,
    *,
    sidecar: Mapping[str, Any] | None,
    defaults: Mapping[str, Any],
    options: ReadOptions,
    max_chars: int,
    max_asset_bytes: int,
) -> SourceDocument:
    extracted = _extract(path, label, kind, options, max_chars)
    sidecar_name = f"{label}.meta.yaml"
    props = extracted.properties
    fallback_title = extracted.first_heading
    layers = [
        flag_layer(options.overrides, overrides=True),
        Layer(name=f"sidecar '{path.name}.meta.yaml'", values=dict(sidecar or {})),
        source_layer(path),
        properties_layer(props),
        flag_layer(defaults, overrides=False),
        Layer(name="first heading", values={"title": fallback_title}),
        Layer(name="file name", values={"title": path.stem}),
    ]
    resolved = resolve(
        label,
        layers,
        where=f"sidecar '{path.name}.meta.yaml'",
        looked_in=[sidecar_name, props.where],
        fix="add a sidecar",
    )
    return SourceDocument(
        assets=tuple(_figure_asset(figure, extracted.text, label, max_asset_bytes) for figure in extracted.figures),
        id=resolved.metadata.document_id(),
        label=label,
        text=extracted.text,
        metadata=resolved.metadata,
        page_starts=extracted.page_starts,
        sections=extracted.sections,
        field_sources=resolved.field_sources,
        notes=(
            f"read as {_READ_AS[kind]}" + (f", {extracted.pages} pages" if extracted.pages else ""),
            *extracted.notes,
        ),
    )


def _figure_asset(figure: PageFigure, text: str, label: str, max_bytes: int) -> ImageAsset:
    try:
        checked = check_image(figure.png, max_bytes=max_bytes)
    except ImageProblem as exc:
        raise DocumentParseError(label, f"image '{figure.name}' {exc}") from None
    caption = text[figure.caption_start : figure.caption_end]
    return ImageAsset(
        figure.name,
        figure.png,
        checked.mime,
        checked.width,
        checked.height,
        caption,
        figure.caption_start,
        figure.caption_end,
    )


def _extract(path: Path, label: str, kind: DocumentKind, options: ReadOptions, max_chars: int) -> Extracted:
    size = path.stat().st_size
    limit = max_chars if kind == "html" else options.max_file_bytes
    if size > limit:
        setting = "ingest.max_document_bytes" if kind == "html" else "ingest.max_file_bytes"
        raise DocumentParseError(
            label, f"is {size:,} bytes, over the {limit:,}-byte limit (raise {setting} in config.yaml)"
        )
    if kind == "pdf":
        from quarry.corpus.readers.pdf import read_pdf

        return read_pdf(
            path, label, password=options.pdf_password, max_pages=options.max_pdf_pages, max_chars=max_chars
        )
    if kind == "docx":
        from quarry.corpus.readers.docx import read_docx

        extracted = read_docx(path, label, max_unpacked=options.max_file_bytes)
    else:
        from quarry.corpus.readers.html import read_html

        extracted = read_html(path.read_bytes(), label)
    if len(extracted.text) > max_chars:
        raise DocumentParseError(
            label,
            f"has {len(extracted.text):,} characters of text, over the {max_chars:,} limit "
            "(raise ingest.max_document_bytes in config.yaml)",
        )
    return extracted
