"""Reads documents from disk in the three accepted shapes and applies the metadata contract.

Markdown with YAML front matter; any .md/.txt with a sidecar `NAME.meta.yaml`; JSONL records
`{"text": ..., "metadata": {...}[, "images": [...]]}`; an image (.png/.jpg/.gif/.webp) with a sidecar
`NAME.png.meta.yaml` (its metadata plus a `caption`). Markdown image references are read as the
document's images (corpus/asset_loader.py). Batch defaults (from CLI flags) fill fields a document
leaves out; a document's own metadata always wins.
"""

import hashlib
import json
import os
import re
import stat
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, BinaryIO

from quarry.corpus.asset_loader import jsonl_images, markdown_images, standalone_image
from quarry.corpus.documents import DOCUMENT_SUFFIXES, ReadOptions, document_kind, load_document
from quarry.corpus.images import IMAGE_SUFFIXES, ImageAsset
from quarry.corpus.metadata import SourceDocument, validate_metadata
from quarry.corpus.metadata_sources import resolve, text_layers
from quarry.corpus.readers.types import DocumentKind
from quarry.corpus.storable import unstorable_character
from quarry.corpus.text_encoding import decode_text
from quarry.corpus.yaml_text import YamlProblem, load_yaml
from quarry.errors import CorpusError, DocumentParseError

TEXT_SUFFIXES = (".md", ".markdown", ".txt")
MARKDOWN_SUFFIXES = (".md", ".markdown")
DEFAULT_MAX_ASSET_BYTES = 20_000_000
JSONL_SUFFIXES = (".jsonl",)
SIDECAR_SUFFIX = ".meta.yaml"
MAX_METADATA_BYTES = 65_536
"""Front matter and sidecars: YAML this size parses in milliseconds (9.9 MB took 38 s and 846 MB)."""
_URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]+:")


@dataclass(frozen=True)
class Refusal:
    """A document that was not ingested, and why."""

    label: str
    reason: str
    origin: str = field(default="", compare=False)
    """The file it came from ("" when there is none): a file with a refusal is not read whole."""


@dataclass(frozen=True)
class Skipped:
    """A file found while walking a folder that is not a document Quarry reads."""

    label: str
    reason: str = ""


LoadResult = SourceDocument | Refusal | Skipped


@dataclass(frozen=True)
class _Limits:
    document_bytes: int
    asset_bytes: int
    read: ReadOptions
    """How PDF, HTML and Word files are read; --title/--published-at overrides; --encoding."""

    @property
    def jsonl_line_bytes(self) -> int:
        """A record's line: its text JSON-escaped (room for twice the text) plus its metadata and images' names."""
        return 2 * self.document_bytes + MAX_METADATA_BYTES


def load_paths(
    paths: Iterable[Path],
    *,
    defaults: dict[str, Any] | None = None,
    max_bytes: int = 10_000_000,
    max_asset_bytes: int = DEFAULT_MAX_ASSET_BYTES,
    options: ReadOptions | None = None,
) -> Iterator[LoadResult]:
    """Yield one result per document found under `paths` (files or folders, walked in sorted order)."""
    limits = _Limits(max_bytes, max_asset_bytes, options or ReadOptions())
    for path in paths:
        try:
            path.stat()
        except (FileNotFoundError, NotADirectoryError):
            yield Refusal(_label(path), "no such file or folder")
            continue
        except (OSError, ValueError) as exc:  # a name too long for the file system, a NUL from a caller
            yield Refusal(_label(path), f"cannot be opened: {getattr(exc, 'strerror', None) or exc}")
            continue
        if path.is_dir():
            root = path.resolve()
            for child in sorted(_walk(path)):
                yield from _load_file(child, defaults or {}, limits, root, explicit=False)
        else:
            yield from _load_file(path, defaults or {}, limits, path.resolve().parent, explicit=True)


def _walk(folder: Path) -> Iterator[Path]:
    for root, dirs, files in os.walk(folder):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        for name in files:
            if not name.startswith(".") and not name.endswith(SIDECAR_SUFFIX):
                yield Path(root) / name


def _load_file(
    path: Path, defaults: dict[str, Any], limits: _Limits, root: Path, *, explicit: bool
) -> Iterator[LoadResult]:
    """The file's results; its images may come only from inside `root` (the folder being ingested)."""
    origin = str(path.resolve())
    for result in _file_results(path, defaults, limits, root, explicit=explicit):
        yield replace(result, origin=origin) if isinstance(result, (Refusal, SourceDocument)) else result


def _file_results(
    path: Path, defaults: dict[str, Any], limits: _Limits, root: Path, *, explicit: bool
) -> Iterator[LoadResult]:
    label = _label(path)
    suffix = path.suffix.lower()
    try:
        if unstorable_character(label):
            yield Refusal(label, "its name is not valid UTF-8 (rename the file)")
            return
        if (explicit or suffix in JSONL_SUFFIXES + TEXT_SUFFIXES + IMAGE_SUFFIXES + tuple(DOCUMENT_SUFFIXES)) and (
            not stat.S_ISREG(path.stat().st_mode)
        ):
            yield Refusal(label, "is not a regular file (a device, pipe or socket is never read)")
            return
        if not path.name.endswith(SIDECAR_SUFFIX) and (kind := document_kind(path, label, explicit=explicit)):
            yield _load_document(path, label, kind, defaults, limits)
            return
        if suffix in JSONL_SUFFIXES:
            yield from _load_jsonl(path, label, defaults, limits, root)
        elif suffix in TEXT_SUFFIXES:
            yield _load_text(path, label, defaults, limits, root)
        elif path.name.endswith(SIDECAR_SUFFIX):
            return
        elif suffix in IMAGE_SUFFIXES:
            result = _load_image(path, label, defaults, limits, root, explicit=explicit)
            if result is not None:
                yield result
        elif explicit:
            yield Refusal(
                label,
                f"unsupported file type '{suffix or path.name}' (Quarry reads .md, .markdown, .txt, .jsonl, "
                "and images with a sidecar NAME.png.meta.yaml)",
            )
        else:
            yield Skipped(label, f"not a document type Quarry reads ({suffix or 'no suffix'})")
    except CorpusError as exc:
        yield Refusal(label, str(exc).removeprefix(f"document '{label}': "))
    except OSError as exc:
        yield Refusal(label, f"cannot read file: {exc.strerror or exc}")


def _load_text(path: Path, label: str, defaults: dict[str, Any], limits: _Limits, root: Path) -> LoadResult:
    size = path.stat().st_size
    if size > limits.document_bytes:
        return Refusal(label, _too_big(size, limits.document_bytes))
    text = decode_text(path.read_bytes(), label, limits.read.encoding)
    sidecar = path.with_name(path.name + SIDECAR_SUFFIX)
    front, body = _split_front_matter(text, label)
    if front is not None and sidecar.exists():
        raise DocumentParseError(label, f"metadata given twice, in front matter and in '{sidecar.name}' (keep one)")
    if front is not None:
        raw, where = front, "front matter"
    elif sidecar.exists():
        raw, where = _read_sidecar(sidecar, label), f"sidecar '{sidecar.name}'"
    else:
        raw, where = {}, f"front matter or a sidecar '{sidecar.name}'"
    if not body.strip():
        return Refusal(label, "has no text")
    _check_declared_source(label, raw, path)
    layers = text_layers(path, raw, where, defaults, limits.read.overrides, body)
    resolved = resolve(label, layers, where=where)
    metadata = resolved.metadata
    assets = (
        markdown_images(body, path.parent, root, label, limits.asset_bytes)
        if path.suffix.lower() in MARKDOWN_SUFFIXES
        else ()
    )
    return SourceDocument(
        id=metadata.document_id(),
        label=label,
        text=body,
        metadata=metadata,
        assets=assets,
        field_sources=resolved.field_sources,
    )


def _load_document(
    path: Path, label: str, kind: DocumentKind, defaults: dict[str, Any], limits: _Limits
) -> SourceDocument:
    sidecar = path.with_name(path.name + SIDECAR_SUFFIX)
    raw = _read_sidecar(sidecar, label) if sidecar.exists() else None
    if raw is not None:
        _check_declared_source(label, raw, path)
    return load_document(
        path,
        label,
        kind,
        sidecar=raw,
        defaults=defaults,
        options=limits.read,
        max_chars=limits.document_bytes,
        max_asset_bytes=limits.asset_bytes,
    )


def _load_image(
    path: Path, label: str, defaults: dict[str, Any], limits: _Limits, root: Path, *, explicit: bool
) -> LoadResult | None:
    """An image with a sidecar is a document of its own; without one it is a Markdown document's
    image (skipped when walking a folder) or, named explicitly, refused."""
    sidecar = path.with_name(path.name + SIDECAR_SUFFIX)
    if not sidecar.exists():
        if not explicit:
            return Skipped(label, "an image without a sidecar (taken to belong to a Markdown document)")
        return Refusal(label, f"an image needs a sidecar '{sidecar.name}' with its metadata and a caption")
    raw = dict(_read_sidecar(sidecar, label))
    caption = raw.pop("caption", None)
    if caption is not None and not isinstance(caption, str):
        raise DocumentParseError(label, f"'caption' in sidecar '{sidecar.name}' must be text")
    if caption and (bad := unstorable_character(caption)):
        raise DocumentParseError(label, f"'caption' in sidecar '{sidecar.name}' contains {bad}")
    _check_declared_source(label, raw, path)
    merged = {**defaults, "source": str(path.resolve()), **raw}
    metadata = validate_metadata(label, merged, where=f"sidecar '{sidecar.name}'")
    text = (caption or "").strip() or metadata.title
    asset = standalone_image(path, root, label, text, limits.asset_bytes)
    return SourceDocument(id=metadata.document_id(), label=label, text=text, metadata=metadata, assets=(asset,))


def _load_jsonl(path: Path, label: str, defaults: dict[str, Any], limits: _Limits, root: Path) -> Iterator[LoadResult]:
    """One result per record. A record is known by its metadata `id`, or else by a hash of its text,
    never by its line: inserting, deleting or reordering lines leaves every other record as it was."""
    records = 0
    keys: dict[str, int] = {}
    with path.open("rb") as handle:
        for number, line, size in _bounded_lines(handle, limits.jsonl_line_bytes):
            record_label = f"{label}:{number}"
            if line is not None and not line.strip():
                continue
            records += 1
            if line is None:
                yield Refusal(
                    record_label,
                    f"the line is {size:,} bytes, over the {limits.jsonl_line_bytes:,}-byte limit for one record"
                    " (raise ingest.max_document_bytes in config.yaml)",
                )
                continue
            try:
                result = _jsonl_record(line, path, record_label, defaults, limits, root)
            except CorpusError as exc:
                yield Refusal(record_label, str(exc).removeprefix(f"document '{record_label}': "))
                continue
            if isinstance(result, SourceDocument):
                key = result.metadata.source
                if key in keys:
                    yield Refusal(
                        record_label,
                        f"has the same text as line {keys[key]} and no 'id' (give each record its own"
                        " metadata 'id' to keep both)",
                    )
                    continue
                keys[key] = number
            yield result
    if not records:
        yield Refusal(label, 'has no records (write one JSON object {"text": ..., "metadata": {...}} per line)')


def _bounded_lines(handle: BinaryIO, limit: int) -> Iterator[tuple[int, bytes | None, int]]:
    """(line number, line or None when it is over `limit` bytes, its size), never holding more than
    `limit` bytes of one line: a 200 MB line is skipped in pieces, not read whole."""
    number = 0
    while line := handle.readline(limit + 1):
        number += 1
        if len(line) <= limit or line.endswith(b"\n"):
            yield number, line, len(line)
            continue
        size = len(line)
        while (rest := handle.readline(1 << 20)) and not rest.endswith(b"\n"):
            size += len(rest)
        yield number, None, size + len(rest)


def _jsonl_record(
    line: bytes, path: Path, label: str, defaults: dict[str, Any], limits: _Limits, root: Path
) -> LoadResult:
    try:
        record = json.loads(_decode(line, label))
    except json.JSONDecodeError as exc:
        raise DocumentParseError(label, f"not valid JSON: {exc.msg} at column {exc.colno}") from None
    except RecursionError:
        raise DocumentParseError(label, "not valid JSON: nested too deeply") from None
    except ValueError:  # the only other ValueError json raises: Python's cap on integer digits
        raise DocumentParseError(label, "not valid JSON: a number has more than 4,300 digits") from None
    if not isinstance(record, dict):
        raise DocumentParseError(label, 'a record must be a JSON object {"text": ..., "metadata": {...}}')
    unknown = sorted(set(record) - {"text", "metadata", "images"})
    if unknown:
        raise DocumentParseError(
            label, f"unknown key '{unknown[0]}' in record (a record has 'text', 'metadata' and 'images')"
        )
    text = record.get("text")
    if not isinstance(text, str) or not text.strip():
        return Refusal(label, "missing or empty 'text' (each record needs the document text as a string)")
    bad = unstorable_character(text)
    if bad:
        raise DocumentParseError(label, f"'text' contains {bad} (remove it from the record)")
    if len(text.encode()) > limits.document_bytes:
        return Refusal(label, _too_big(len(text.encode()), limits.document_bytes))
    raw = record.get("metadata", {})
    if not isinstance(raw, dict):
        raise DocumentParseError(label, "'metadata' must be a JSON object")
    _check_declared_source(label, raw, path)
    given_id = raw.get("id")
    key = given_id.strip() if isinstance(given_id, str) and given_id.strip() else _text_key(text)
    merged = {**defaults, "source": f"{path.resolve()}#{key}", **raw}
    metadata = validate_metadata(label, merged, where='the record\'s "metadata" object')
    assets: tuple[ImageAsset, ...] = ()
    if "images" in record:
        text, assets = jsonl_images(record["images"], text, path.parent, root, label, limits.asset_bytes)
    return SourceDocument(id=metadata.document_id(), label=label, text=text, metadata=metadata, assets=assets)


def _text_key(text: str) -> str:
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()[:24]


def _check_declared_source(label: str, raw: dict[str, Any], own: Path) -> None:
    """A document may declare a URI as its `source`, or its own file; never another local file: a
    citation would then claim another document's origin."""
    declared = raw.get("source")
    if not isinstance(declared, str) or not declared.strip():
        return  # the metadata contract reports it
    text = declared.strip()
    if _URI.match(text) and not text.lower().startswith("file:"):
        return
    named = text.split(":", 1)[1].removeprefix("//") if text.lower().startswith("file:") else text
    if os.path.normpath(os.path.join(own.resolve().parent, named)) == str(own.resolve()):
        return
    raise DocumentParseError(
        label,
        f"'source' names a local file ('{text}') other than this one (leave 'source' out to cite this file,"
        " or give a URI such as https://…)",
    )


def _split_front_matter(text: str, label: str) -> tuple[dict[str, Any] | None, str]:
    """Return (front matter, body); the body is what gets chunked, so offsets index into it."""
    if not text.startswith("---"):
        return None, text
    first_break = text.find("\n")
    if first_break == -1 or text[:first_break].strip() != "---":
        return None, text
    end = text.find("\n---", first_break)
    while end != -1 and text[end + 4 : end + 5] not in ("", "\n", "\r"):
        end = text.find("\n---", end + 4)
    if end == -1:
        raise DocumentParseError(label, "front matter starts with '---' but has no closing '---' line")
    front = text[first_break + 1 : end]
    if len(front) > MAX_METADATA_BYTES or len(front.encode()) > MAX_METADATA_BYTES:
        raise DocumentParseError(label, _metadata_too_big("front matter", len(front.encode())))
    raw = _parse_yaml(front, label, "front matter")
    body_start = text.find("\n", end + 4)
    body = "" if body_start == -1 else text[body_start + 1 :]
    return raw, body


def _read_sidecar(sidecar: Path, label: str) -> dict[str, Any]:
    size = sidecar.stat().st_size
    if size > MAX_METADATA_BYTES:
        raise DocumentParseError(label, _metadata_too_big(f"sidecar '{sidecar.name}'", size))
    return _parse_yaml(_decode(sidecar.read_bytes(), label), label, f"sidecar '{sidecar.name}'")


def _parse_yaml(source: str, label: str, where: str) -> dict[str, Any]:
    try:
        value = load_yaml(source)
    except YamlProblem as exc:
        raise DocumentParseError(label, f"{where} is not valid YAML: {exc.problem}{exc.at}") from None
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise DocumentParseError(label, f"{where} must be a mapping of field: value, got {type(value).__name__}")
    return value


def _decode(data: bytes, label: str) -> str:
    return decode_text(data, label, None, hint=False)


def _metadata_too_big(where: str, size: int) -> str:
    return (
        f"{where} is {size:,} bytes, over the {MAX_METADATA_BYTES:,}-byte limit for metadata"
        " (keep metadata short; long text belongs in the document body)"
    )


def _too_big(size: int, limit: int) -> str:
    return f"is {size:,} bytes, over the {limit:,}-byte limit (raise ingest.max_document_bytes in config.yaml)"


def _label(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)
