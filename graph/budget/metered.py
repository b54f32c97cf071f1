"""Every model call goes through here: admitted only if its worst case fits, clamped to what is
left, bounded by the run's deadline, settled from reported usage, and written to the ledger."""

import asyncio
import time
from dataclasses import dataclass

from graph.budget.ledger import CallRecord, Ledger, Outcome
from graph.budget.pool import BudgetPool
from graph.budget.spend import Spend
from graph.errors import BudgetExceeded
from graph.trace import add_model_ms, add_spend
from tools.llm.base import ChatModel, Completion, Prompt
from tools.llm.errors import LLMError, LLMTimeout, LLMUnavailable
from tools.llm.pricing import Usage, affordable_output, cost_usd, worst_case_usd


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
) -> MeteredCompletion:
    input_tokens = model.count_input_tokens(prompt)
    left = pool.remaining(for_finalize=for_finalize)
    output = min(max_tokens, left.tokens - input_tokens, affordable_output(model.price, input_tokens, left.usd))
    if left.seconds <= 0 or output < min_tokens:
        reason = "deadline" if left.seconds <= 0 else "tokens" if left.tokens - input_tokens < min_tokens else "cost"
        raise BudgetExceeded(
            reason, f"{node}: a {model.name} call needs ~{input_tokens} input + {min_tokens} output tokens; left {left}"
        )
    hold = pool.reserve(node, input_tokens + output, worst_case_usd(model.price, input_tokens, output), for_finalize=for_finalize)
    deadline = pool.deadline if for_finalize else pool.work_deadline
    started = time.perf_counter()

    def record(outcome: Outcome, usage: Usage, usd: float, attempts: int, estimated: bool = False) -> CallRecord:
        return CallRecord(
            run_id, node, "llm", model.name, usage.input_tokens, usage.output_tokens, usage.cache_write_tokens,
            usage.cache_read_tokens, usd, (time.perf_counter() - started) * 1000, outcome, attempts, estimated,
        )

    def forfeit() -> CallRecord:
        # The request may have reached the API and be billed: keep the whole hold as spent.
        add_spend(pool.forfeit(hold))
        return record("timeout", Usage(input_tokens=hold.tokens), hold.usd, 1, estimated=True)

    try:
        try:
            async with asyncio.timeout(max(0.0, deadline - time.monotonic())):
                completion = await model.complete(prompt, max_tokens=output, deadline=deadline)
        except (TimeoutError, LLMTimeout):
            await asyncio.to_thread(ledger.record, forfeit())
            raise LLMTimeout(f"{node}: {model.name} gave no complete reply before the deadline") from None
        except asyncio.CancelledError:
            # The node's own deadline (the guard) cut the call: account for it before the cancellation
            # goes on, synchronously, since nothing may be awaited in a cancelled task.
            ledger.record(forfeit())
            raise
        except LLMUnavailable:
            pool.release(hold)
            await asyncio.to_thread(ledger.record, record("unavailable", Usage(), 0.0, 1))
            raise
        except LLMError:
            pool.release(hold)
            await asyncio.to_thread(ledger.record, record("refused", Usage(), 0.0, 1))
            raise
        usd = cost_usd(model.price, completion.usage)
        spend = pool.settle(hold, completion.usage, usd)
        add_spend(spend)
        await asyncio.to_thread(ledger.record, record("ok", completion.usage, usd, completion.attempts))
        return MeteredCompletion(completion, spend, output)
    finally:
        add_model_ms((time.perf_counter() - started) * 1000)
