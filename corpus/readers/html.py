"""A saved web page's main text, with the heading path of every section, and its head's metadata.

Parsed with selectolax (Lexbor, an HTML5 parser): scripts, styles, navigation, headers, footers,
asides and forms are removed, and the text is taken from `<main>`, `<article>` or `[role=main]` when
the page has one, else from `<body>`. Each block (paragraph, list item, heading, cell, quote,
preformatted text, a `<div>` holding text directly) becomes a paragraph of its own; headings open
sections (`Methods › Sampling`). The bytes are decoded as the page declares (`<meta charset>` or
`http-equiv`), else as UTF-8, else as windows-1252, the HTML standard's default.
"""

import codecs
import json
import re
from datetime import UTC, date, datetime, time
from typing import Any

from quarry.corpus.readers.types import SECTION_SEPARATOR, Extracted, FileProperties, meaningful
from quarry.errors import DocumentParseError

WHERE = "the page's <title>/<meta>"
_BOILERPLATE = (
    "script, style, noscript, template, nav, header, footer, aside, form, iframe, svg, button, select, "
    "[role=navigation], [role=banner], [role=contentinfo], [aria-hidden=true], [hidden]"
)
_BLOCKS = "h1, h2, h3, h4, h5, h6, p, li, pre, blockquote, td, th, dt, dd, figcaption, caption, div"
_HEADING = re.compile(r"^h([1-6])$")
_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.I)
_SPACE = re.compile(r"\s+")


def decode_html(data: bytes, label: str) -> tuple[str, str]:
    """The page's text and the encoding used (BOM, then the declared charset, then UTF-8, then windows-1252)."""
    for bom, name in (
        (codecs.BOM_UTF8, "utf-8"),
        (codecs.BOM_UTF16_LE, "utf-16-le"),
        (codecs.BOM_UTF16_BE, "utf-16-be"),
    ):
        if data.startswith(bom):
            return data[len(bom) :].decode(name, errors="replace"), name
    declared = _CHARSET.search(data[:4096])
    if declared:
        name = declared.group(1).decode("ascii").lower()
        try:
            codec = codecs.lookup(name).name
        except LookupError:
            raise DocumentParseError(
                label, f"declares charset '{name}', which Quarry does not know (convert it to UTF-8, e.g. with iconv)"
            ) from None
        return data.decode(codec, errors="replace"), codec
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        return data.decode("windows-1252", errors="replace"), "windows-1252 (no charset declared; not UTF-8)"


def read_html(data: bytes, label: str) -> Extracted:
    from selectolax.lexbor import LexborHTMLParser

    source, encoding = decode_html(data, label)
    tree = LexborHTMLParser(source.replace("\x00", ""))
    properties = _properties(tree)
    for node in tree.css(_BOILERPLATE):
        node.decompose()
    root = tree.css_first("main") or tree.css_first("article") or tree.css_first("[role=main]") or tree.body
    if root is None:
        raise DocumentParseError(label, "has no text (an HTML page without a body)")
    parts: list[str] = []
    sections: list[tuple[int, str]] = []
    headings: list[tuple[int, str]] = []
    first_heading = None
    length = 0
    taken: set[int] = set()
    for node in root.css(_BLOCKS):
        if _inside(node, taken, root) or (node.tag == "div" and _holds_blocks(node)):
            continue
        taken.add(node.mem_id)
        text = _SPACE.sub(" ", node.text(deep=True, separator=" ")).strip()
        if not text:
            continue
        if parts:
            parts.append("\n\n")
            length += 2
        heading = _HEADING.match(node.tag or "")
        if heading:
            level = int(heading.group(1))
            headings = [h for h in headings if h[0] < level] + [(level, text)]
            sections.append((length, SECTION_SEPARATOR.join(h[1] for h in headings)))
            first_heading = first_heading or text
        parts.append(text)
        length += len(text)
    if not parts:
        raise DocumentParseError(label, "has no text in its main content (scripts and navigation are left out)")
    notes = (f"decoded as {encoding}",) if encoding != "utf-8" else ()
    return Extracted(
        kind="html",
        text="".join(parts),
        properties=properties,
        sections=tuple(sections),
        first_heading=first_heading,
        notes=notes,
    )


def _holds_blocks(node: Any) -> bool:
    # Lexbor's css() matches the node itself too: a <div> holds blocks if any match is another node.
    return any(inner.mem_id != node.mem_id for inner in node.css(_BLOCKS))


def _inside(node: Any, taken: set[int], root: Any) -> bool:
    parent = node.parent
    while parent is not None and parent.mem_id != root.mem_id:
        if parent.mem_id in taken:
            return True
        parent = parent.parent
    return False


def _properties(tree: Any) -> FileProperties:
    def meta(*selectors: str) -> str | None:
        for selector in selectors:
            node = tree.css_first(selector)
            if node is not None and (value := meaningful(node.attributes.get("content"))):
                return value
        return None

    linked = _json_ld(tree)
    title_node = tree.css_first("head > title") or tree.css_first("title")
    title = meaningful(title_node.text() if title_node is not None else None) or meta('meta[property="og:title"]')
    author = meta('meta[name="author"]', 'meta[property="article:author"]') or linked.get("author")
    published = meta(
        'meta[property="article:published_time"]',
        'meta[itemprop="datePublished"]',
        'meta[name="date"]',
        'meta[name="dcterms.date"]',
        'meta[name="DC.date"]',
    ) or linked.get("datePublished")
    html = tree.css_first("html")
    language = meaningful(html.attributes.get("lang")) if html is not None else None
    return FileProperties(
        where=WHERE,
        title=title,
        author=author,
        published_at=parse_when(published),
        language=language.lower()
        if language and re.fullmatch(r"[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})?", language)
        else None,
    )


def _json_ld(tree: Any) -> dict[str, str]:
    """datePublished and author from the page's schema.org JSON-LD, when it has some."""
    found: dict[str, str] = {}
    for node in tree.css('script[type="application/ld+json"]'):
        try:
            data = json.loads(node.text())
        except (ValueError, RecursionError):
            continue
        for item in data if isinstance(data, list) else [data]:
            if not isinstance(item, dict):
                continue
            if isinstance(item.get("datePublished"), str):
                found.setdefault("datePublished", item["datePublished"])
            author = item.get("author")
            author = author[0] if isinstance(author, list) and author else author
            name = author.get("name") if isinstance(author, dict) else author
            if isinstance(name, str) and name.strip():
                found.setdefault("author", name.strip())
    return found


def parse_when(value: str | None) -> datetime | None:
    """An ISO 8601 date or date-time as an aware datetime (a plain date, or no offset, is taken as UTC)."""
    if not value:
        return None
    text = value.strip().replace("Z", "+00:00").replace("z", "+00:00")
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        try:
            return datetime.combine(date.fromisoformat(text[:10]), time(0, 0), tzinfo=UTC)
        except ValueError:
            return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
