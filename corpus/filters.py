"""Who is asking and what they narrowed the search to, compiled to one SQL predicate over chunks.

Every retriever puts this predicate in the same statement as its ranking, so a chunk the
principal may not read is never a candidate, whatever its score.
"""

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator


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


class SearchFilters(BaseModel):
    """Metadata narrowing; each set field must hold, fields with several values match any of them."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    domains: tuple[str, ...] = ()
    authors: tuple[str, ...] = ()
    tags: tuple[str, ...] = Field(default=(), description="any of these tags")
    published_after: datetime | None = None
    published_before: datetime | None = None

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


def chunk_predicate(filters: SearchFilters, principal: Principal, *, alias: str = "") -> tuple[str, dict[str, Any]]:
    """SQL boolean expression over the chunks table (optionally aliased) and its named parameters."""
    col = f"{alias}." if alias else ""
    clauses = [f"{col}access && %(f_groups)s::text[]"]
    params: dict[str, Any] = {"f_groups": list(principal.groups)}
    if filters.domains:
        clauses.append(f"{col}domain = ANY(%(f_domains)s::text[])")
        params["f_domains"] = list(filters.domains)
    if filters.authors:
        clauses.append(f"{col}author = ANY(%(f_authors)s::text[])")
        params["f_authors"] = list(filters.authors)
    if filters.tags:
        clauses.append(f"{col}tags && %(f_tags)s::text[]")
        params["f_tags"] = list(filters.tags)
    if filters.published_after:
        clauses.append(f"{col}published_at >= %(f_after)s")
        params["f_after"] = filters.published_after
    if filters.published_before:
        clauses.append(f"{col}published_at < %(f_before)s")
        params["f_before"] = filters.published_before
    return " AND ".join(clauses), params
