"""Settings for the research loop: default budgets and how much each step may look at or write."""

from pydantic import BaseModel, ConfigDict, Field

from quarry.graph.budget.limits import Limits


class ResearchConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    budget: Limits = Limits()
    """Per-question defaults; `quarry ask --max-*` and `ask(budget=...)` override them."""
    session_budget: Limits = Limits(max_seconds=900.0, max_hops=30, max_tokens=300_000, max_usd=2.0)
    """A chat session's ceilings over all its turns (research seconds, hops, tokens, dollars)."""
    max_subqueries: int = Field(default=3, ge=1, le=10)
    """Searches run concurrently per hop."""
    candidates_per_query: int = Field(default=30, ge=1, le=500)
    """Fused candidates each search hands to the reranker."""
    keep_per_query: int = Field(default=5, ge=1, le=100)
    """Candidates the reranker keeps per search as evidence."""
    rerank_passage_tokens: int = Field(default=120, ge=16, le=2000)
    """Each candidate is cut to this many tokens for an LLM reranker (the cheap tier reads snippets)."""
    evidence_tokens: int = Field(default=4000, ge=200, le=200_000)
    """Evidence packed into the synthesis prompt, best first."""
    plan_max_tokens: int = Field(default=150, ge=16, le=4000)
    contextualize_max_tokens: int = Field(default=100, ge=16, le=4000)
    history_turns: int = Field(default=3, ge=1, le=50)
    """Earlier turns of a chat session shown when rewriting a follow-up question."""
    rerank_max_tokens: int = Field(default=200, ge=16, le=4000)
    synthesize_max_tokens: int = Field(default=700, ge=32, le=32_000)
    min_output_tokens: int = Field(default=24, ge=1, le=1000)
    """A call whose clamped max_tokens would fall below this is not worth making: the run finalizes."""
    account: str | None = Field(default=None, min_length=1, max_length=200)
    """A budget account every run of this process also charges (`quarry account set NAME ...`): its cap
    holds across all runs, sessions and workers sharing it. None: no shared cap."""
    min_support: float = Field(default=0.3, ge=0.0, le=1.0)
    """A citation is kept when its passage contains this share of the sentence's content words."""
