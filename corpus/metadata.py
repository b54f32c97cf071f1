"""The metadata contract every document must satisfy before anything of it is stored."""

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from quarry.corpus.images import ImageAsset
from quarry.corpus.shown import shown, shown_name
from quarry.corpus.storable import unstorable_character
from quarry.errors import FieldProblem, MetadataError

_GROUP = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")
_DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_MAX_PROBLEMS = 12
GENERATED_ID_PREFIX = "doc_"
"""Ids Quarry derives from a source start with it; a document may not choose one."""
MAX_TAGS = 64
MAX_TAG_CHARS = 100

# Fields a user can also supply for a whole batch from the command line.
CLI_FLAGS: dict[str, str] = {
    "author": "--author",
    "domain": "--domain",
    "access": "--access",
    "tags": "--tags",
    "language": "--language",
    "published_at": "--published-at",
}


class DocumentMetadata(BaseModel):
    """What Quarry must know about a document: where it came from, who wrote it, who may read it."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    id: str | None = Field(default=None, min_length=1, max_length=200)
    """Stable identity across re-ingestion; derived from `source` when absent."""
    source: str = Field(min_length=1, max_length=2000)
    """Absolute path or URI a reader can open."""
    title: str = Field(min_length=1, max_length=500)
    author: str = Field(min_length=1, max_length=200)
    domain: str = Field(min_length=1, max_length=100)
    published_at: datetime
    access: tuple[str, ...] = Field(min_length=1)
    """Groups allowed to read the document; a reader needs at least one of them."""
    tags: tuple[str, ...] = Field(default=(), max_length=MAX_TAGS)
    language: str | None = Field(default=None, pattern=r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$")

    @field_validator("*", mode="before")
    @classmethod
    def _storable_text(cls, value: Any) -> Any:
        for text in value if isinstance(value, (list, tuple)) else (value,):
            if isinstance(text, str) and (bad := unstorable_character(text)):
                raise ValueError(f"contains {bad}")
        return value

    @field_validator("id")
    @classmethod
    def _not_a_generated_id(cls, value: str | None) -> str | None:
        if value is not None and value.startswith(GENERATED_ID_PREFIX):
            raise ValueError(
                f"ids starting with '{GENERATED_ID_PREFIX}' are reserved for the ids Quarry derives from a source"
                " (choose another id, or leave it out)"
            )
        return value

    @field_validator("published_at", mode="before")
    @classmethod
    def _dates_are_utc_midnight(cls, value: Any) -> Any:
        if isinstance(value, str) and _DATE_ONLY.match(value.strip()):
            value = date.fromisoformat(value.strip())
        if isinstance(value, date) and not isinstance(value, datetime):
            return datetime.combine(value, time(0, 0), tzinfo=UTC)
        return value

    @field_validator("published_at")
    @classmethod
    def _timezone_aware(cls, value: datetime) -> datetime:
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError("naive datetime")
        try:
            value.astimezone(UTC)
        except OverflowError:
            raise ValueError("out of range: in UTC it falls outside the years 1 to 9999") from None
        return value

    @field_validator("access", "tags", mode="before")
    @classmethod
    def _comma_string_is_a_list(cls, value: Any) -> Any:
        if isinstance(value, str):
            return tuple(part.strip() for part in value.split(",") if part.strip())
        return value

    @field_validator("access")
    @classmethod
    def _group_names(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for group in value:
            if not _GROUP.match(group):
                raise ValueError(f"bad group name {group!r}")
        return tuple(sorted(set(value)))

    @field_validator("tags")
    @classmethod
    def _short_tags(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for tag in value:
            if len(tag) > MAX_TAG_CHARS:
                raise ValueError(f"a tag is {len(tag):,} characters, over the {MAX_TAG_CHARS}-character limit")
        return value

    def document_id(self) -> str:
        if self.id:
            return self.id
        return GENERATED_ID_PREFIX + hashlib.sha256(self.source.encode()).hexdigest()[:20]

    def fingerprint(self) -> str:
        """A stable digest of the metadata, so a metadata-only change is still a change."""
        return json.dumps(self.model_dump(mode="json"), sort_keys=True)


@dataclass(frozen=True)
class SourceDocument:
    """A document that passed the contract and is ready to chunk and store."""

    id: str
    label: str
    """How the user named it (path, or path:line for JSONL records); used in messages."""
    text: str
    metadata: DocumentMetadata
    assets: tuple[ImageAsset, ...] = ()
    """Images, in the order the document shows them."""
    page_starts: tuple[int, ...] = ()
    """PDF: the offset in `text` where each page begins (page n at page_starts[n - 1])."""
    sections: tuple[tuple[int, str], ...] = ()
    """HTML/DOCX: (offset, heading path) where each section begins."""
    field_sources: Mapping[str, str] = field(default_factory=dict)
    """Metadata field → where its value came from (for `quarry ingest --dry-run`)."""
    notes: tuple[str, ...] = ()
    """How the text was read (format, pages, encoding), for `--dry-run`."""
    origin: str = ""
    """The file it was loaded from (a JSONL record's file); "" for documents built in code, whose
    origin is their declared source. The document's id belongs to its origin."""

    @property
    def owner(self) -> str:
        """The origin that owns this document's id."""
        return self.origin or self.metadata.source

    @property
    def content_hash(self) -> str:
        """Covers text, metadata and every image (bytes and caption): any change re-ingests."""
        digest = hashlib.sha256(self.text.encode())
        digest.update(b"\0" + self.metadata.fingerprint().encode())
        for asset in self.assets:
            digest.update(f"\0{asset.key}\0{asset.name}\0{asset.caption_start}:{asset.caption_end}".encode())
        if self.page_starts or self.sections:  # where pages and sections begin decides each chunk's provenance
            digest.update(f"\0{self.page_starts}\0{self.sections}".encode())
        return digest.hexdigest()


def validate_metadata(label: str, raw: dict[str, Any], *, where: str) -> DocumentMetadata:
    """Check `raw` against the contract; `where` says where the user writes metadata for this kind of file."""
    try:
        return DocumentMetadata.model_validate(raw)
    except ValidationError as exc:
        problems: dict[str, FieldProblem] = {}
        for error in exc.errors():  # one problem per field: a list of 10,000 bad tags is one message
            problem = _describe(error, where)
            problems.setdefault(problem.field, problem)
            if len(problems) == _MAX_PROBLEMS:
                break
        raise MetadataError(label, list(problems.values())) from None


def _describe(error: Any, where: str) -> FieldProblem:
    loc = error["loc"]
    field = shown_name(loc[0]) if loc else "metadata"
    kind = error["type"]
    given = error.get("input")
    flag = CLI_FLAGS.get(field)
    set_it = f"set it in {where}" + (f" or pass {flag}" if flag else "")
    allowed = ", ".join(DocumentMetadata.model_fields)
    if kind == "missing":
        return FieldProblem(field, f"missing required field '{field}'", set_it)
    if kind == "extra_forbidden":
        return FieldProblem(field, f"unknown field '{field}'", f"allowed fields: {allowed}")
    if kind == "invalid_key":
        return FieldProblem(field, f"field name {shown(given)} is not text", f"allowed fields: {allowed}")
    if field == "published_at" and "naive datetime" in error.get("msg", ""):
        moment = given.isoformat() if isinstance(given, datetime) else shown_name(given)
        return FieldProblem(
            field,
            f"field 'published_at' has no timezone: '{moment}'",
            f"write it with an offset, e.g. {moment}Z",
        )
    if field == "access" and kind == "too_short":
        fix = "list the groups allowed to read it, e.g. access: [public]"
        return FieldProblem(field, "field 'access' is empty", fix + (f", or pass {flag} public" if flag else ""))
    reason = error.get("msg", "invalid value").removeprefix("Value error, ").replace("valid tuple", "list")
    return FieldProblem(field, f"invalid field '{field}': {reason} (got {shown(given)})", set_it)
