"""What a format reader returns: the text to store and chunk, where its pages and sections begin, and
the metadata the file itself carries."""

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from quarry.corpus.readers.pdf_images import PageFigure

DocumentKind = Literal["pdf", "html", "docx"]

SECTION_SEPARATOR = " › "
"""Between the headings of a section path: `Methods › Sampling`."""


@dataclass(frozen=True, kw_only=True, slots=True)
class FileProperties:
    """Metadata found inside the file (PDF Info/XMP, HTML head, DOCX core properties); None where absent."""

    where: str
    """How a message names the place looked at, e.g. "the PDF's Info/XMP"."""
    title: str | None = None
    author: str | None = None
    published_at: datetime | None = None
    language: str | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class Extracted:
    """A document's extracted text and its layout; offsets index `text`."""

    kind: DocumentKind
    text: str
    properties: FileProperties
    page_starts: tuple[int, ...] = ()
    """Offset in `text` where each page begins (PDF only): page n starts at page_starts[n - 1]."""
    sections: tuple[tuple[int, str], ...] = ()
    """(offset, heading path) where each section begins, in order (HTML and DOCX)."""
    first_heading: str | None = None
    pages: int = 0
    figures: tuple["PageFigure", ...] = ()
    """Captioned images found in the document (PDF), as PNG bytes with their caption's offsets."""
    notes: tuple[str, ...] = field(default=())
    """What a dry run should tell the user about how the text was read (e.g. pages read with the RTL reader)."""


_PLACEHOLDERS = frozenset({"anonymous", "unknown", "untitled", "none", "n/a", "author", "title", "user", "owner"})


def meaningful(value: object) -> str | None:
    """A property's text with whitespace collapsed, or None when empty or a tool's placeholder ("anonymous",
    "untitled", "unknown": what PDF and Office writers fill in when nobody set the field)."""
    if not isinstance(value, str):
        return None
    cleaned = " ".join(value.replace("\x00", "").split())
    if not cleaned or cleaned.strip("()[]<> ").lower() in _PLACEHOLDERS:
        return None
    return cleaned
