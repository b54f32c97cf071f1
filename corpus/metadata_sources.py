"""Where each metadata field of a document comes from, in order of precedence, and what it resolves to.

For a PDF, HTML or Word file: `--title`/`--published-at` (overrides) > the sidecar `NAME.meta.yaml` >
the file's own properties (PDF Info/XMP, the page's head, DOCX core properties) > the batch defaults
(`--author`, `--domain`, `--access`, `--tags`, `--language`) > for the title only, the first heading
or the file name. For Markdown and text the front matter (or sidecar) takes the sidecar's place.
A required field found nowhere is refused with every place that was looked at.
"""

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from quarry.corpus.metadata import CLI_FLAGS, DocumentMetadata, validate_metadata
from quarry.corpus.readers.types import FileProperties
from quarry.errors import FieldProblem, MetadataError

OVERRIDE_FLAGS: dict[str, str] = {"title": "--title", "published_at": "--published-at"}
"""Flags that override what a document says (the rest only fill in what it leaves out)."""
REQUIRED = ("title", "author", "domain", "published_at", "access")
_MARKDOWN_HEADING = re.compile(r"^#{1,6}[ \t]+(.+?)[ \t#]*$", re.MULTILINE)


@dataclass(frozen=True, kw_only=True, slots=True)
class Layer:
    """One place metadata can come from."""

    name: str
    """As the user knows it: "sidecar 'x.pdf.meta.yaml'", "the PDF's Info/XMP", "--author"."""
    values: Mapping[str, Any]
    per_field_names: Mapping[str, str] | None = None
    """For a layer of flags: each field's own flag, so the origin reads '--author', not 'the flags'."""


@dataclass(frozen=True, kw_only=True, slots=True)
class Resolved:
    metadata: DocumentMetadata
    field_sources: Mapping[str, str]
    """Field → where its value came from, for `quarry ingest --dry-run`."""


def flag_layer(values: Mapping[str, Any], *, overrides: bool) -> Layer:
    """Batch defaults (or overrides), each field named by its flag when it has one."""
    flags = OVERRIDE_FLAGS if overrides else CLI_FLAGS
    kept = {key: value for key, value in values.items() if value is not None}
    return Layer(name="overrides" if overrides else "ingest defaults", values=kept, per_field_names=flags)


def properties_layer(props: FileProperties) -> Layer:
    """What the file says about itself (PDF Info/XMP, the page's head, DOCX core properties)."""
    return Layer(
        name=props.where,
        values={
            "title": props.title,
            "author": props.author,
            "published_at": props.published_at,
            "language": props.language,
        },
    )


def source_layer(path: Path) -> Layer:
    return Layer(name="file path", values={"source": str(path.resolve())})


def text_layers(
    path: Path,
    own: Mapping[str, Any],
    where: str,
    defaults: Mapping[str, Any],
    overrides: Mapping[str, Any],
    body: str,
) -> list[Layer]:
    """A Markdown or text file's layers: overrides, its front matter or sidecar, its path, the defaults,
    then a title from its first Markdown heading or its file name."""
    heading = _MARKDOWN_HEADING.search(body) if path.suffix.lower() in (".md", ".markdown") else None
    return [
        flag_layer(overrides, overrides=True),
        Layer(name=where, values=own),
        source_layer(path),
        flag_layer(defaults, overrides=False),
        Layer(name="first heading", values={"title": heading.group(1).strip() if heading else None}),
        Layer(name="file name", values={"title": path.stem}),
    ]


def resolve(
    label: str,
    layers: Sequence[Layer],
    *,
    where: str,
    looked_in: Sequence[str] | None = None,
    fix: str = "",
) -> Resolved:
    """Merge `layers` (first wins) and validate. With `looked_in`, a missing required field
    is refused as "missing 'author' (not in A, not in B; pass --author or add a sidecar)"; without it,
    by the contract's own message (which names `where`)."""
    merged: dict[str, Any] = {}
    origins: dict[str, str] = {}
    for layer in reversed(layers):
        for key, value in layer.values.items():
            if value is None or value == "":
                continue
            merged[key] = value
            origins[key] = (layer.per_field_names or {}).get(key, layer.name)
    if looked_in is not None:
        missing = [name for name in REQUIRED if name not in merged]
        if missing:
            raise MetadataError(label, [_missing(name, looked_in, fix) for name in missing])
    metadata = validate_metadata(label, merged, where=where)
    return Resolved(
        metadata=metadata, field_sources={k: origins[k] for k in DocumentMetadata.model_fields if k in origins}
    )


def _missing(name: str, looked_in: Sequence[str], fix: str) -> FieldProblem:
    flag = OVERRIDE_FLAGS.get(name) or CLI_FLAGS.get(name)
    places = ", ".join(f"not in {place}" for place in looked_in)
    hint = f"pass {flag} or {fix}" if flag else fix
    return FieldProblem(name, f"missing '{name}'", f"{places}; {hint}")
