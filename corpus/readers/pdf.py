"""PDF text, page by page, with the page each character came from.

PDFium (pypdfium2) reads the text: the fastest of the readers measured, the least memory, ligatures
expanded and line-end hyphens marked (U+FFFE), so "con-/sectetuer" is joined back exactly
(bench/bench_pdf_readers.py). PDFium returns right-to-left script in visual order, so a page
whose text holds Arabic or Hebrew is read again with pypdf, which returns it in logical order.
Pages are loaded and closed one at a time: memory stays flat however many pages a file has, up to
`max_pages`; the text as a whole is capped at `max_chars`.
"""

import re
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from quarry.corpus.readers.pdf_images import PageFigure, page_figures
from quarry.corpus.readers.types import Extracted, FileProperties, meaningful
from quarry.errors import DocumentParseError

WHERE = "the PDF's Info/XMP"
_RTL = re.compile("[\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufefc]")
_PDF_DATE = re.compile(r"^(?:D:)?(\d{4})(\d{2})?(\d{2})?(\d{2})?(\d{2})?(\d{2})?(?:([Zz+-])(\d{2})?'?(\d{2})?'?)?")
_SPACES_BEFORE_BREAK = re.compile(r"[ \t]+\n")
_PAGE_BREAK = "\n\n"


def read_pdf(
    path: Path, label: str, *, password: str | None, max_pages: int, max_chars: int, with_figures: bool = True
) -> Extracted:
    with _opened(path, label, password) as document:
        count = len(document)
        if count > max_pages:
            raise DocumentParseError(
                label, f"has {count:,} pages, over the {max_pages:,}-page limit (raise ingest.max_pdf_pages)"
            )
        parts: list[str] = []
        starts: list[int] = []
        length = 0
        rtl_pages = []
        figures: list[PageFigure] = []
        for number, (page, text) in enumerate(_pages(document), start=1):
            if _RTL.search(text):
                text = _logical_order_page(path, number - 1, password) or text
                rtl_pages.append(number)
            if parts:
                parts.append(_PAGE_BREAK)
                length += len(_PAGE_BREAK)
            starts.append(length)
            if with_figures:
                figures.extend(page_figures(page, text, length, number))
            page.close()
            parts.append(text)
            length += len(text)
            if length > max_chars:
                raise DocumentParseError(
                    label,
                    f"has more than {max_chars:,} characters of text by page {number} "
                    "(raise ingest.max_document_bytes in config.yaml)",
                )
        properties = _properties(document.get_metadata_dict(skip_empty=True), path, password)
    text = "".join(parts)
    if not text.strip():
        raise DocumentParseError(
            label,
            f"no text layer in its {count} page(s) (a scanned PDF? run OCR first, e.g. `ocrmypdf in.pdf out.pdf`, "
            "and ingest the result)",
        )
    notes = (
        (f"right-to-left script read in logical order on page(s) {', '.join(map(str, rtl_pages))}",)
        if rtl_pages
        else ()
    )
    return Extracted(
        kind="pdf",
        text=text,
        properties=properties,
        page_starts=tuple(starts),
        pages=count,
        figures=tuple(figures),
        notes=notes,
    )


@contextmanager
def _opened(path: Path, label: str, password: str | None) -> Iterator[Any]:
    import pypdfium2 as pdfium

    try:
        document = pdfium.PdfDocument(str(path), password=password)
    except pdfium.PdfiumError as exc:
        reason = str(exc)
        if "password" in reason.lower():
            if password:
                raise DocumentParseError(label, "is encrypted and the --pdf-password given does not open it") from None
            raise DocumentParseError(
                label, "is encrypted (pass --pdf-password, or save a copy without the password)"
            ) from None
        detail = reason.removeprefix("Failed to load document ").strip("().")
        raise DocumentParseError(label, f"is not a readable PDF: corrupt or truncated ({detail})") from None
    try:
        yield document
    finally:
        document.close()


def _pages(document: Any) -> Iterator[tuple[Any, str]]:
    """Each page, open, with its text; the caller closes it, so one page at a time is in memory."""
    for index in range(len(document)):
        page = document[index]
        textpage = page.get_textpage()
        try:
            raw = textpage.get_text_range()
        finally:
            textpage.close()
        yield page, _clean(raw)


def _clean(raw: str) -> str:
    # U+FFFE marks a hyphen PDFium saw at a line end (a word split in two): drop it to join the word.
    text = raw.replace("\r\n", "\n").replace("\r", "\n").replace("\ufffe", "").replace("\x00", "")
    text = text.replace("\x02", "").replace("\x0c", "\n")
    return _SPACES_BEFORE_BREAK.sub("\n", text).strip()


def _logical_order_page(path: Path, index: int, password: str | None) -> str | None:
    """The page's text from pypdf (right-to-left script in logical order), presentation forms normalised."""
    import pypdf

    try:
        reader = pypdf.PdfReader(str(path), password=password)
        text = reader.pages[index].extract_text()
    except Exception:  # pypdf failing on a page PDFium read: keep PDFium's text
        return None
    return _clean(unicodedata.normalize("NFKC", text)) or None


def _properties(info: dict[str, str], path: Path, password: str | None) -> FileProperties:
    title = meaningful(info.get("Title"))
    author = meaningful(info.get("Author"))
    created = parse_pdf_date(info.get("CreationDate", ""))
    language = None
    if title is None or author is None or created is None:
        xmp = _xmp(path, password)
        title = title or xmp.get("title")
        author = author or xmp.get("author")
        created = created or xmp.get("created")
    return FileProperties(where=WHERE, title=title, author=author, published_at=created, language=language)


def _xmp(path: Path, password: str | None) -> dict[str, Any]:
    import pypdf

    try:
        reader = pypdf.PdfReader(str(path), password=password)
        xmp = reader.xmp_metadata
        if xmp is None:
            return {}
        titles = xmp.dc_title or {}
        creators = xmp.dc_creator or []
        created = xmp.xmp_create_date
    except Exception:  # unreadable XMP is treated as absent
        return {}
    if isinstance(created, datetime) and created.tzinfo is None:
        created = created.replace(tzinfo=UTC)
    return {
        "title": meaningful(titles.get("x-default") or next(iter(titles.values()), None)),
        "author": meaningful(", ".join(str(c) for c in creators)) if creators else None,
        "created": created if isinstance(created, datetime) else None,
    }


def parse_pdf_date(value: str) -> datetime | None:
    """A PDF date (`D:20240314093000+01'00'`, or a prefix of it) as an aware datetime; None if unreadable."""
    match = _PDF_DATE.match(value.strip())
    if not match:
        return None
    year, month, day, hour, minute, second, sign, off_h, off_m = match.groups()
    try:
        offset = timedelta(hours=int(off_h or 0), minutes=int(off_m or 0)) if sign in ("+", "-") else timedelta()
        zone = timezone(-offset if sign == "-" else offset)
        return datetime(
            int(year), int(month or 1), int(day or 1), int(hour or 0), int(minute or 0), int(second or 0), tzinfo=zone
        )
    except ValueError:
        return None
