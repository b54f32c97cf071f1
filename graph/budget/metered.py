"""Every model call goes through here: admitted only if its worst case fits, clamped to what is
left, bounded by the run's deadline, settled from reported usage, and written to the ledger."""

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from quarry.errors import BudgetExceeded, LLMError, LLMTimeout, LLMUnavailable
from quarry.graph.budget.account import AccountHold, AccountTab
from quarry.graph.budget.ledger import CallRecord, Ledger, Outcome
from quarry.graph.budget.pool import BudgetPool
from quarry.graph.budget.spend import Spend
from quarry.graph.trace import add_model_ms, add_spend, note
from quarry.records import StopReason
from quarry.tools.llm.base import ChatModel, Completion, Prompt, StreamingChatModel
from quarry.tools.llm.pricing import Usage, affordable_output, cost_usd, worst_case_usd


@dataclass(frozen=True)
class MeteredCompletion:
    completion: Completion
    spend: Spend
    max_tokens: int
    """max_tokens as sent, after clamping to the budget."""


async def call_model(
    model: ChatModel,
    prompt: Prompt,
    *,
    node: str,
    run_id: str,
    pool: BudgetPool,
    ledger: Ledger,
    max_tokens: int,
    min_tokens: int,
    for_finalize: bool = False,
    fallback: ChatModel | None = None,
    on_text: Callable[[str], None] | None = None,
) -> MeteredCompletion:
    """One metered call. With a `fallback`, a model that stays unavailable (retries exhausted) hands the
    call to it, and later calls of the run go straight there rather than wait on the outage again.
    With `on_text`, a model that streams hands it the reply's text as it is written (others: nothing)."""
    call: dict[str, Any] = {
        "node": node,
        "run_id": run_id,
        "pool": pool,
        "ledger": ledger,
        "max_tokens": max_tokens,
        "min_tokens": min_tokens,
        "for_finalize": for_finalize,
    }
    if fallback is not None and pool.outage is not None:
        return await _fall_back(pool.outage, fallback, prompt, **call)
    input_tokens = model.count_input_tokens(prompt)
    left = pool.remaining(for_finalize=for_finalize)
    output = min(max_tokens, left.tokens - input_tokens, affordable_output(model.price, input_tokens, left.usd))
    if left.seconds <= 0 or output < min_tokens:
        reason: StopReason = (
            "deadline" if left.seconds <= 0 else "tokens" if left.tokens - input_tokens < min_tokens else "cost"
        )
        raise BudgetExceeded(
            reason, f"{node}: a {model.name} call needs ~{input_tokens} input + {min_tokens} output tokens; left {left}"
        )
    hold = pool.reserve(
        node, input_tokens + output, worst_case_usd(model.price, input_tokens, output), for_finalize=for_finalize
    )
    tab = pool.account
    try:
        shared = await _hold_on_account(tab, node, hold.tokens, hold.usd) if tab else None
    except BaseException:
        pool.release(hold)
        raise
    deadline = pool.deadline if for_finalize else pool.work_deadline
    started = time.perf_counter()

    def record(outcome: Outcome, usage: Usage, usd: float, attempts: int, estimated: bool = False) -> CallRecord:
        return CallRecord(
            run_id=run_id,
            node=node,
            kind="llm",
            model=model.name,
            input_tokens=usage.input_tokens,
            output_tokens=usage.output_tokens,
            cache_write_tokens=usage.cache_write_tokens,
            cache_read_tokens=usage.cache_read_tokens,
            usd=usd,
            ms=(time.perf_counter() - started) * 1000,
            outcome=outcome,
            attempts=attempts,
            estimated=estimated,
        )

    def forfeit() -> CallRecord:
        # The request may have reached the API and be billed: keep the whole hold as spent.
        add_spend(pool.forfeit(hold))
        if tab and shared:
            tab.forfeit(shared)
        return record("timeout", Usage(input_tokens=hold.tokens), hold.usd, 1, estimated=True)

    try:
        try:
            async with asyncio.timeout(max(0.0, deadline - time.monotonic())):
                if on_text is not None and isinstance(model, StreamingChatModel):
                    completion = await model.complete_streaming(
                        prompt, max_tokens=output, deadline=deadline, on_text=on_text
                    )
                else:
                    completion = await model.complete(prompt, max_tokens=output, deadline=deadline)
        except (TimeoutError, LLMTimeout):
            await _record(ledger, forfeit())
            raise LLMTimeout(f"{node}: {model.name} gave no complete reply before the deadline") from None
        except asyncio.CancelledError:
            # The node's own deadline (the guard) cut the call: account for it before the cancellation
            # goes on, synchronously, since nothing may be awaited in a cancelled task.
            ledger.record(forfeit())
            raise
        except LLMError as exc:
            pool.release(hold)
            if tab and shared:
                await _to_the_end(tab.release, shared)
            outcome: Outcome = "unavailable" if isinstance(exc, LLMUnavailable) else "refused"
            await _record(ledger, record(outcome, Usage(), 0.0, 1))
            if fallback is None or outcome != "unavailable":
                raise
            pool.outage = model.name
        else:
            usd = cost_usd(model.price, completion.usage)
            spend = pool.settle(hold, completion.usage, usd)
            if tab and shared:
                await _to_the_end(tab.settle, shared, completion.usage.total, usd)
            add_spend(spend)
            await _record(
                ledger, record("ok", completion.usage, usd, completion.attempts, estimated=completion.usage_estimated)
            )
            return MeteredCompletion(completion, spend, output)
    finally:
        add_model_ms((time.perf_counter() - started) * 1000)
    return await _fall_back(model.name, fallback, prompt, **call)


async def _fall_back(unavailable: str, fallback: ChatModel, prompt: Prompt, **call: Any) -> MeteredCompletion:
    note(f"{unavailable} unavailable: answered by {fallback.name} (llm.fallback)")
    return await call_model(fallback, prompt, **call)


async def _record(ledger: Ledger, call: CallRecord) -> None:
    await _to_the_end(ledger.record, call)


async def _to_the_end(write: Callable[..., None], *args: Any) -> None:
    """Run a bookkeeping write in a worker thread, to the end even if this task is cancelled meanwhile
    (the guard's deadline): `to_thread` alone drops a write still queued for a free worker, and under
    load the spend row of a billed call went missing (bench/bench_load)."""
    await asyncio.shield(asyncio.to_thread(write, *args))


async def _hold_on_account(tab: AccountTab, node: str, tokens: int, usd: float) -> AccountHold:
    """A hold on the shared account. If this task is cancelled while the hold is being granted, the
    hold is given back once granted, rather than left to block the account until the run is reaped."""
    granting = asyncio.ensure_future(asyncio.to_thread(tab.hold, node, tokens, usd))
    try:
        return await asyncio.shield(granting)
    except asyncio.CancelledError:

        def give_back(done: "asyncio.Future[AccountHold]") -> None:
            if not done.cancelled() and done.exception() is None:
                asyncio.get_running_loop().run_in_executor(None, tab.release, done.result())

        granting.add_done_callback(give_back)
        raise
