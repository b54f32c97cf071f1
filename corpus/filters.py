"""Who is asking and what they narrowed the search to.

The documents store compiles both into one SQL predicate over chunks (`corpus.store.chunk_predicate`,
its access clause from corpus/access.py); every retriever puts it in the same statement as its
ranking, so a chunk the principal may not read is never a candidate, whatever its score.
"""

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from quarry.corpus.storable import unstorable_character


def _storable(value: Any) -> Any:
    """Text PostgreSQL can hold: no NUL, no lone surrogate (the one check every boundary shares)."""
    for text in value if isinstance(value, tuple) else (value,):
        if isinstance(text, str) and (bad := unstorable_character(text)):
            raise ValueError(f"{text[:40]!r} contains {bad}")
    return value


class Principal(BaseModel):
    """A reader: an id for the ledger and the access groups that decide what they may read."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = "anonymous"
    groups: tuple[str, ...] = ("public",)

    @field_validator("groups", mode="before")
    @classmethod
    def _comma_string(cls, value: Any) -> Any:
        if isinstance(value, str):
            return tuple(part.strip() for part in value.split(",") if part.strip())
        return value

    _storable_text = field_validator("id", "groups")(_storable)


class SearchFilters(BaseModel):
    """Metadata narrowing; each set field must hold, fields with several values match any of them."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    domains: tuple[str, ...] = ()
    authors: tuple[str, ...] = ()
    tags: tuple[str, ...] = Field(default=(), description="any of these tags")
    published_after: datetime | None = None
    published_before: datetime | None = None

    _storable_text = field_validator("domains", "authors", "tags")(_storable)

    @field_validator("published_after", "published_before")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("dates in filters need a timezone, e.g. 2024-01-01T00:00:00Z")
        return value

    @model_validator(mode="after")
    def _ordered(self) -> "SearchFilters":
        if self.published_after and self.published_before and self.published_after >= self.published_before:
            raise ValueError(
                f"published_after ({self.published_after.isoformat()}) must be before "
                f"published_before ({self.published_before.isoformat()})"
            )
        return self
