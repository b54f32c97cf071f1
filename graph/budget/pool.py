"""The run-wide budget every node and parallel branch draws from: reserve before a call, settle after.

A call is admitted only if its worst case (counted input × safety + max_tokens, priced at the
dearest rates) fits in what is left after committed spend, open reservations and finalize's
reserve, so concurrent branches can never jointly pass a ceiling. Settling replaces the
reservation with the reported usage and refunds the difference.
"""

import itertools
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from quarry.errors import BudgetExceeded
from quarry.graph.budget.limits import Limits, StopReason
from quarry.graph.budget.spend import Spend
from quarry.tools.llm.pricing import Usage

if TYPE_CHECKING:
    from quarry.graph.budget.account import AccountTab


@dataclass(frozen=True)
class Remaining:
    """What a node may still use; hand it to model calls to clamp max_tokens and time."""

    seconds: float
    tokens: int
    usd: float

    def fits(self, tokens: int, usd: float) -> bool:
        return tokens <= self.tokens and usd <= self.usd + 1e-12 and self.seconds > 0

    def __str__(self) -> str:
        """As messages show it: "52.0 s, 1,200 tokens, $0.240000" (never the dataclass repr)."""
        return f"{max(0.0, self.seconds):.1f} s, {self.tokens:,} tokens, ${self.usd:.6f}"


@dataclass(frozen=True)
class Reservation:
    id: int
    node: str
    tokens: int
    usd: float


class BudgetPool:
    def __init__(
        self,
        limits: Limits,
        *,
        clock: Callable[[], float] = time.monotonic,
        account: "AccountTab | None" = None,
    ) -> None:
        self.limits = limits
        self.account = account
        """The shared account every model call also holds on (graph/budget/account.py), if any."""
        self._clock = clock
        self.started_at = clock()
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._open: dict[int, Reservation] = {}
        self._tokens = 0
        self._usd = 0.0
        self.overruns = 0
        """Settlements whose reported usage exceeded the reservation (token-count safety factor too low)."""
        self.outage: str | None = None
        """The model found unavailable during this run, if any: later calls go straight to the fallback
        model (if one is configured), since its tiers share one API."""

    @property
    def deadline(self) -> float:
        return self.started_at + self.limits.max_seconds

    @property
    def work_deadline(self) -> float:
        """When ordinary nodes must stop so finalize still has its reserved time."""
        return self.deadline - self.limits.reserve_seconds

    def remaining(self, *, for_finalize: bool = False) -> Remaining:
        with self._lock:
            return self._remaining(for_finalize)

    def _remaining(self, for_finalize: bool) -> Remaining:
        limits = self.limits
        reserved_tokens = sum(r.tokens for r in self._open.values())
        reserved_usd = sum(r.usd for r in self._open.values())
        held_tokens = 0 if for_finalize else limits.finalize_reserve_tokens
        held_usd = 0.0 if for_finalize else limits.finalize_reserve_usd
        end = self.deadline if for_finalize else self.work_deadline
        return Remaining(
            seconds=max(0.0, end - self._clock()),
            tokens=max(0, limits.max_tokens - self._tokens - reserved_tokens - held_tokens),
            usd=max(0.0, limits.max_usd - self._usd - reserved_usd - held_usd),
        )

    def reserve(self, node: str, tokens: int, usd: float, *, for_finalize: bool = False) -> Reservation:
        """Hold `tokens`/`usd` for one call, or raise BudgetExceeded naming the limit that lacks room."""
        with self._lock:
            left = self._remaining(for_finalize)
            reason = _shortfall(left, tokens, usd)
            if reason:
                raise BudgetExceeded(reason, f"{node} needs {tokens} tokens / ${usd:.6f}; left {left}")
            reservation = Reservation(next(self._ids), node, tokens, usd)
            self._open[reservation.id] = reservation
            return reservation

    def settle(self, reservation: Reservation, usage: Usage, usd: float) -> Spend:
        """Commit what the call really used (its reported usage) and free the rest of the hold."""
        with self._lock:
            self._open.pop(reservation.id, None)
            self._tokens += usage.total
            self._usd += usd
            if usage.total > reservation.tokens or usd > reservation.usd + 1e-12:
                self.overruns += 1
        return Spend.of(reservation.node, usage, usd)

    def forfeit(self, reservation: Reservation) -> Spend:
        """The call was cut off and may still be billed: commit the whole hold as spent, to stay safe."""
        with self._lock:
            self._open.pop(reservation.id, None)
            self._tokens += reservation.tokens
            self._usd += reservation.usd
        return Spend.of(reservation.node, Usage(input_tokens=reservation.tokens), reservation.usd)

    def release(self, reservation: Reservation) -> None:
        """The call never happened or reported nothing billable: refund the whole hold."""
        with self._lock:
            self._open.pop(reservation.id, None)

    def spent(self) -> tuple[int, float]:
        with self._lock:
            return self._tokens, self._usd

    def exhausted(self, *, min_tokens: int = 1, min_usd: float = 0.0) -> StopReason | None:
        """The first limit that leaves no room for even a minimal step, if any."""
        with self._lock:
            return _shortfall(self._remaining(False), min_tokens, min_usd)


def _shortfall(left: Remaining, tokens: int, usd: float) -> StopReason | None:
    if left.seconds <= 0:
        return "deadline"
    if tokens > left.tokens:
        return "tokens"
    if usd > left.usd + 1e-12:
        return "cost"
    return None
