"""Request bodies of the API. Unknown fields are refused (400), and so is any field claiming an
identity (groups, principal): those come only from the API key."""

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from quarry.graph.engine import MAX_QUESTION_CHARS


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class BudgetBody(_Body):
    """Any of the run's limits; the others default to research.budget."""

    max_seconds: float | None = None
    max_hops: int | None = None
    max_tokens: int | None = None
    max_usd: float | None = None


class AskBody(_Body):
    question: str = Field(max_length=MAX_QUESTION_CHARS * 2)
    """At most 4,000 characters once trimmed (the engine's limit; a longer body is refused before parsing)."""
    budget: BudgetBody | None = None
    filters: dict[str, Any] | None = None
    """Metadata filters: domains, authors, tags, published_after, published_before."""
    use_cache: bool = True


class MessageBody(_Body):
    question: str = Field(max_length=MAX_QUESTION_CHARS * 2)
    budget: BudgetBody | None = None
    filters: dict[str, Any] | None = None
    use_cache: bool = True


class SessionBody(_Body):
    """A new session's own ceilings over all its turns (default: research.session_budget)."""

    budget: BudgetBody | None = None
