"""What a file is, from its first bytes rather than its name."""

import re
import zipfile
from pathlib import Path
from typing import Literal

Sniffed = Literal["pdf", "docx", "zip", "html", "image", "text", "binary"]

_HEAD_BYTES = 4096
_HTML_START = re.compile(rb"^\s*(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html[\s>]|head[\s>]|body[\s>])", re.I | re.S)
_IMAGE_MAGIC = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF87a", b"GIF89a")
KIND_NAMES = {
    "pdf": "a PDF",
    "docx": "a Word (.docx) file",
    "zip": "a ZIP archive",
    "html": "HTML",
    "image": "an image",
    "text": "plain text",
    "binary": "binary data",
}


def sniff(path: Path) -> Sniffed:
    with path.open("rb") as handle:
        head = handle.read(_HEAD_BYTES)
    return sniff_bytes(head, path)


def sniff_bytes(head: bytes, path: Path | None = None) -> Sniffed:
    """`path` lets a ZIP be told apart from a DOCX (by its word/document.xml member)."""
    body = head.removeprefix(b"\xef\xbb\xbf")
    if b"%PDF-" in head[:1024]:
        return "pdf"
    if head.startswith(b"PK\x03\x04"):
        return "docx" if path is not None and _is_docx(path) else "zip"
    if head.startswith(_IMAGE_MAGIC) or (head[:4] == b"RIFF" and head[8:12] == b"WEBP"):
        return "image"
    if _HTML_START.match(body):
        return "html"
    if b"\x00" in head:
        return "binary"
    return "text"


def _is_docx(path: Path) -> bool:
    try:
        with zipfile.ZipFile(path) as archive:
            return "word/document.xml" in archive.namelist()
    except (zipfile.BadZipFile, OSError):
        return False
