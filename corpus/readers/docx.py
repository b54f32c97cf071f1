"""A Word (.docx) file's text in reading order, with heading paths, and its core properties.

The archive is checked before python-docx opens it: a member that would inflate past
`max_unpacked` bytes in all, or more than `_MAX_RATIO` times its compressed size, is a zip bomb and
refused; so is a file with more than `_MAX_MEMBERS` members. A relationship to something outside
the file (an attached template, a linked picture or OLE object, a sub-document) is refused too:
Quarry reads what is in the file and fetches nothing. Hyperlinks are text and stay allowed.
"""

import re
import zipfile
from datetime import UTC
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

from quarry.corpus.readers.types import SECTION_SEPARATOR, Extracted, FileProperties, meaningful
from quarry.errors import DocumentParseError

WHERE = "the DOCX core properties"
_MAX_RATIO = 200
_MAX_MEMBERS = 10_000
_HEADING_STYLE = re.compile(r"^Heading ([1-9])$")
_RELATIONSHIP = "{http://schemas.openxmlformats.org/package/2006/relationships}Relationship"


def check_archive(path: Path, label: str, *, max_unpacked: int) -> None:
    """Refuse a zip bomb or external references before any XML is parsed."""
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
            if len(members) > _MAX_MEMBERS:
                raise DocumentParseError(
                    label, f"has {len(members):,} archive members (over {_MAX_MEMBERS:,}: a zip bomb?)"
                )
            total = 0
            for member in members:
                total += member.file_size
                ratio = member.file_size / max(member.compress_size, 1)
                if total > max_unpacked or (member.file_size > 1_000_000 and ratio > _MAX_RATIO):
                    raise DocumentParseError(
                        label,
                        f"would unpack to more than {min(total, max_unpacked):,} bytes ('{member.filename}' is "
                        f"{member.file_size:,} bytes compressed {ratio:,.0f}:1): refused as a zip bomb",
                    )
            for member in members:
                if member.filename.endswith(".rels"):
                    _refuse_external(archive.read(member), member.filename, label)
    except zipfile.BadZipFile as exc:
        raise DocumentParseError(label, f"is not a readable .docx: corrupt or truncated ({exc})") from None


def _refuse_external(rels: bytes, name: str, label: str) -> None:
    try:
        root = ElementTree.fromstring(rels)
    except ElementTree.ParseError as exc:
        raise DocumentParseError(label, f"is not a readable .docx: '{name}' is not XML ({exc})") from None
    for relation in root.iter(_RELATIONSHIP):
        kind = relation.get("Type", "").rsplit("/", 1)[-1]
        if relation.get("TargetMode") != "External" or kind == "hyperlink":
            continue
        target = relation.get("Target", "")
        raise DocumentParseError(
            label,
            f"refers to an external {kind} '{target[:120]}' (in {name}); Quarry fetches nothing from outside a "
            "document: remove the link or save a copy with the linked content embedded",
        )


def read_docx(path: Path, label: str, *, max_unpacked: int) -> Extracted:
    check_archive(path, label, max_unpacked=max_unpacked)
    import docx
    from docx.opc.exceptions import PackageNotFoundError
    from docx.table import Table

    try:
        document = docx.Document(str(path))
    except (PackageNotFoundError, KeyError, ValueError, zipfile.BadZipFile) as exc:
        raise DocumentParseError(label, f"is not a readable .docx ({exc})") from None
    parts: list[str] = []
    sections: list[tuple[int, str]] = []
    headings: list[tuple[int, str]] = []
    first_heading = None
    length = 0
    for block in document.iter_inner_content():
        if isinstance(block, Table):
            text = "\n".join(" | ".join(_cell_text(cell) for cell in row.cells) for row in block.rows).strip()
            level = None
        else:
            text = block.text.strip()
            level = _heading_level(block)
        if not text:
            continue
        if parts:
            parts.append("\n\n")
            length += 2
        if level is not None:
            headings = [h for h in headings if h[0] < level] + [(level, text)]
            sections.append((length, SECTION_SEPARATOR.join(h[1] for h in headings)))
            first_heading = first_heading or text
        parts.append(text)
        length += len(text)
    if not parts:
        raise DocumentParseError(label, "has no text")
    core = document.core_properties
    created = core.created
    if created is not None and created.tzinfo is None:
        created = created.replace(tzinfo=UTC)  # the format stores UTC (W3CDTF); python-docx drops the zone
    return Extracted(
        kind="docx",
        text="".join(parts),
        properties=FileProperties(
            where=WHERE,
            title=meaningful(core.title),
            author=meaningful(core.author),
            published_at=created,
            language=_language(core.language),
        ),
        sections=tuple(sections),
        first_heading=first_heading,
    )


def _heading_level(paragraph: Any) -> int | None:
    name = paragraph.style.name if paragraph.style is not None else ""
    if name == "Title":
        return 1
    match = _HEADING_STYLE.match(name or "")
    return int(match.group(1)) if match else None


def _cell_text(cell: Any) -> str:
    return " ".join(cell.text.split())


def _language(value: str | None) -> str | None:
    if value and re.fullmatch(r"[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})?", value.strip()):
        return value.strip().lower()
    return None
