"""Format readers for PDF, HTML and Word files: content sniffing, text with page and section
positions, and the metadata each file carries. Readers import their library on first use."""

from quarry.corpus.readers.sniff import sniff
from quarry.corpus.readers.types import SECTION_SEPARATOR, DocumentKind, Extracted, FileProperties

__all__ = ["SECTION_SEPARATOR", "DocumentKind", "Extracted", "FileProperties", "sniff"]
