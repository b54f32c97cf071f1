"""The guard every node runs under.

Before: if what is left cannot cover the node's smallest useful step, the node does not run and
the run is marked stopped (the routes then go to finalize). During: the node runs under the
run's work deadline (`asyncio.timeout`), and every model call inside it is admitted and clamped
by the pool. After: its spend and a trace span are recorded in state. A budget or model failure
never escapes as an exception: it becomes a `Stop` the routes act on.
"""

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

from langgraph.runtime import Runtime

from quarry.errors import BudgetExceeded, LLMError, LLMTimeout
from quarry.graph.context import RunContext
from quarry.graph.events import NodeStarted
from quarry.graph.state import Stop
from quarry.graph.trace import Span, SpanClock, current_clock


@dataclass(frozen=True)
class Need:
    """The smallest step a node can usefully take: below this, it is not worth starting."""

    tokens: int = 0
    usd: float = 0.0


Node = Callable[[Any, Runtime[RunContext]], Awaitable[dict[str, Any]]]
NeedFn = Callable[[Any, RunContext], Need]


class GuardedNode(Protocol):
    """A node as LangGraph calls it: the state, and the runtime by keyword (`StateGraph.add_node`)."""

    def __call__(self, state: Any, runtime: Runtime[RunContext]) -> Awaitable[dict[str, Any]]: ...


def guarded(name: str, node: Node, needs: NeedFn | None = None, *, reserve: bool = False) -> GuardedNode:
    """Wrap a node in the guard. `reserve=True` is finalize's form: no admission check and no timeout
    (it always runs, in the time held back for it, and makes no model call)."""

    async def run(state: Any, runtime: Runtime[RunContext]) -> dict[str, Any]:
        context = runtime.context
        pool = context.pool
        began = time.perf_counter()
        start_ms = (time.monotonic() - pool.started_at) * 1000
        if context.emit is not None:
            hop = state.get("hop", 0)
            context.emit(NodeStarted(name, hop, context.left(hop)))
        need = needs(state, context) if needs else Need()
        short = None if reserve else pool.exhausted(min_tokens=need.tokens, min_usd=need.usd)
        if short:
            detail = (
                f"{name} not started: it needs at least {need.tokens} tokens / ${need.usd:.6f}; left {pool.remaining()}"
            )
            span = Span(
                node=name,
                start_ms=start_ms,
                ms=(time.perf_counter() - began) * 1000,
                outcome="skipped",
                detail=detail,
            )
            return {"stop": Stop(short, detail), "trace": [span]}
        clock = SpanClock()
        token = current_clock.set(clock)
        update: dict[str, Any] = {}
        stop: Stop | None = None
        try:
            # finalize makes no model call and must always produce the answer: it runs unbounded.
            async with asyncio.timeout(None if reserve else max(0.0, pool.work_deadline - time.monotonic())):
                update = await node(state, runtime)
        except TimeoutError:
            stop = Stop("deadline", f"{name} was cut off at the deadline")
        except LLMTimeout as exc:
            stop = Stop("deadline", str(exc))
        except BudgetExceeded as exc:
            stop = Stop(exc.reason, str(exc))
        except LLMError as exc:
            stop = Stop("error", str(exc))
        finally:
            current_clock.reset(token)
        ms = (time.perf_counter() - began) * 1000
        total = clock.spend.total()
        detail = "; ".join(([stop.detail] if stop else []) + clock.notes)
        span = Span(
            node=name,
            start_ms=start_ms,
            ms=ms,
            outcome="stopped" if stop else "ok",
            detail=detail,
            tokens=total.tokens,
            usd=total.usd,
            model_ms=clock.model_ms,
            retrieval_ms=clock.retrieval_ms,
            inputs=" | ".join(clock.inputs),
            hits=tuple(clock.hits),
        )
        result = {**update, "trace": [span]}
        if clock.spend:
            result["spend"] = clock.spend
        if stop:
            result["stop"] = stop
        return result

    run.__name__ = name
    run.__qualname__ = name
    return run
