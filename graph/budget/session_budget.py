"""A chat session's budget: each turn runs under the per-question limits, clamped to what the
session as a whole has left. A spent session runs nothing more."""

from dataclasses import dataclass

from quarry.errors import SessionBudgetSpent
from quarry.graph.budget.limits import Limits

MIN_TURN_SECONDS = 1.0
"""Below this, a turn could not search and answer: the session counts as out of time."""


@dataclass(frozen=True, kw_only=True, slots=True)
class SessionUsage:
    seconds: float = 0.0
    hops: int = 0
    tokens: int = 0
    usd: float = 0.0

    def __add__(self, other: "SessionUsage") -> "SessionUsage":
        return SessionUsage(
            seconds=self.seconds + other.seconds,
            hops=self.hops + other.hops,
            tokens=self.tokens + other.tokens,
            usd=self.usd + other.usd,
        )


def turn_limits(per_question: Limits, session: Limits, used: SessionUsage) -> Limits:
    """The limits for the next turn, or SessionBudgetSpent naming the first exhausted ceiling.
    Dollars never block a turn: at $0 left the turn may still use free (offline) models."""
    seconds = session.max_seconds - used.seconds
    hops = session.max_hops - used.hops
    tokens = session.max_tokens - used.tokens
    if seconds < MIN_TURN_SECONDS:
        raise SessionBudgetSpent("deadline", f"{used.seconds:.1f} s of {session.max_seconds:g} s researched")
    if hops < 1:
        raise SessionBudgetSpent("hops", f"{used.hops} of {session.max_hops} hops used")
    if tokens < 1:
        raise SessionBudgetSpent("tokens", f"{used.tokens} of {session.max_tokens} tokens used")
    usd = max(0.0, session.max_usd - used.usd)
    limits = {
        **per_question.model_dump(),
        "max_seconds": min(per_question.max_seconds, seconds),
        "max_hops": min(per_question.max_hops, hops),
        "max_tokens": min(per_question.max_tokens, tokens),
        "max_usd": min(per_question.max_usd, usd),
    }
    limits["finalize_reserve_tokens"] = min(per_question.finalize_reserve_tokens, limits["max_tokens"])
    limits["finalize_reserve_usd"] = min(per_question.finalize_reserve_usd, limits["max_usd"])
    if per_question.finalize_reserve_seconds is not None:
        limits["finalize_reserve_seconds"] = min(per_question.finalize_reserve_seconds, limits["max_seconds"] / 2)
    return Limits.model_validate(limits)
