"""Reads documents from disk in the three accepted shapes and applies the metadata contract.

Markdown with YAML front matter; any .md/.txt with a sidecar `NAME.meta.yaml`; JSONL records
`{"text": ..., "metadata": {...}[, "images": [...]]}`; an image (.png/.jpg/.gif/.webp) with a sidecar
`NAME.png.meta.yaml` (its metadata plus a `caption`). Markdown image references are read as the
document's images (corpus/asset_loader.py). Batch defaults (from CLI flags) fill fields a document
leaves out; a document's own metadata always wins.
"""

import json
import os
import stat
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from quarry.corpus.asset_loader import jsonl_images, markdown_images, standalone_image
from quarry.corpus.documents import DOCUMENT_SUFFIXES, ReadOptions, document_kind, load_document
from quarry.corpus.images import IMAGE_SUFFIXES, ImageAsset
from quarry.corpus.metadata import SourceDocument, unstorable_character, validate_metadata
from quarry.corpus.metadata_sources import resolve, text_layers
from quarry.corpus.readers.types import DocumentKind
from quarry.corpus.text_encoding import decode_text
from quarry.corpus.yaml_text import YamlProblem, load_yaml
from quarry.errors import CorpusError, DocumentParseError

TEXT_SUFFIXES = (".md", ".markdown", ".txt")
MARKDOWN_SUFFIXES = (".md", ".markdown")
DEFAULT_MAX_ASSET_BYTES = 20_000_000
JSONL_SUFFIXES = (".jsonl",)
SIDECAR_SUFFIX = ".meta.yaml"


@dataclass(frozen=True)
class Refusal:
    """A document that was not ingested, and why."""

    label: str
    reason: str


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
            for child in sorted(_walk(path)):
                yield from _load_file(child, defaults or {}, limits, explicit=False)
        else:
            yield from _load_file(path, defaults or {}, limits, explicit=True)


def _walk(folder: Path) -> Iterator[Path]:
    for root, dirs, files in os.walk(folder):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        for name in files:
            if not name.startswith(".") and not name.endswith(SIDECAR_SUFFIX):
                yield Path(root) / name


def _load_file(path: Path, defaults: dict[str, Any], limits: _Limits, *, explicit: bool) -> Iterator[LoadResult]:
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
            yield from _load_jsonl(path, label, defaults, limits)
        elif suffix in TEXT_SUFFIXES:
            yield _load_text(path, label, defaults, limits)
        elif path.name.endswith(SIDECAR_SUFFIX):
            return
        elif suffix in IMAGE_SUFFIXES:
            result = _load_image(path, label, defaults, limits, explicit=explicit)
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


def _load_text(path: Path, label: str, defaults: dict[str, Any], limits: _Limits) -> LoadResult:
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
    layers = text_layers(path, raw, where, defaults, limits.read.overrides, body)
    resolved = resolve(label, layers, where=where)
    metadata = resolved.metadata
    assets = (
        markdown_images(body, path.parent, label, limits.asset_bytes)
        if path.suffix.lower() in MARKDOWN_SUFFIXES
        else ()
    )
    return SourceDocument(
        id=metadata.document_id(), label=label, text=body, metadata=metadata, assets=assets, origins=resolved.origins
    )


def _load_document(
    path: Path, label: str, kind: DocumentKind, defaults: dict[str, Any], limits: _Limits
) -> SourceDocument:
    sidecar = path.with_name(path.name + SIDECAR_SUFFIX)
    raw = _read_sidecar(sidecar, label) if sidecar.exists() else None
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
    path: Path, label: str, defaults: dict[str, Any], limits: _Limits, *, explicit: bool
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
    merged = {**defaults, "source": str(path.resolve()), **raw}
    metadata = validate_metadata(label, merged, where=f"sidecar '{sidecar.name}'")
    text = (caption or "").strip() or metadata.title
    asset = standalone_image(path, label, text, limits.asset_bytes)
    return SourceDocument(id=metadata.document_id(), label=label, text=text, metadata=metadata, assets=(asset,))


def _load_jsonl(path: Path, label: str, defaults: dict[str, Any], limits: _Limits) -> Iterator[LoadResult]:
    records = 0
    with path.open("rb") as handle:
        for number, line in enumerate(handle, start=1):
            record_label = f"{label}:{number}"
            if not line.strip():
                continue
            records += 1
            try:
                yield _jsonl_record(line, path, number, record_label, defaults, limits)
            except CorpusError as exc:
                yield Refusal(record_label, str(exc).removeprefix(f"document '{record_label}': "))
    if not records:
        yield Refusal(label, 'has no records (write one JSON object {"text": ..., "metadata": {...}} per line)')


def _jsonl_record(
    line: bytes, path: Path, number: int, label: str, defaults: dict[str, Any], limits: _Limits
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
    merged = {**defaults, "source": f"{path.resolve()}#L{number}", **raw}
    metadata = validate_metadata(label, merged, where='the record\'s "metadata" object')
    assets: tuple[ImageAsset, ...] = ()
    if "images" in record:
        text, assets = jsonl_images(record["images"], text, path.parent, label, limits.asset_bytes)
    return SourceDocument(id=metadata.document_id(), label=label, text=text, metadata=metadata, assets=assets)


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
    raw = _parse_yaml(text[first_break + 1 : end], label, "front matter")
    body_start = text.find("\n", end + 4)
    body = "" if body_start == -1 else text[body_start + 1 :]
    return raw, body


def _read_sidecar(sidecar: Path, label: str) -> dict[str, Any]:
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


def _too_big(size: int, limit: int) -> str:
    return f"is {size:,} bytes, over the {limit:,}-byte limit (raise ingest.max_document_bytes in config.yaml)"


def _label(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)
