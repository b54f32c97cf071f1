"""plan: turn the question into this hop's search queries (one cheap-model call)."""

from typing import Any

from langgraph.runtime import Runtime

from quarry.corpus.tokens import count_tokens
from quarry.graph.budget.guard import Need
from quarry.graph.budget.metered import call_model
from quarry.graph.context import RunContext
from quarry.graph.state import State
from quarry.graph.trace import note, note_inputs
from quarry.tools.llm.base import PlanTask
from quarry.tools.llm.pricing import worst_case_usd
from quarry.tools.llm.prompts import parse_queries, plan_prompt
from quarry.tools.question_parts import question_parts


async def plan(state: State, runtime: Runtime[RunContext]) -> dict[str, Any]:
    context = runtime.context
    services = context.services
    config = services.config
    task = PlanTask(state["question"], max_queries=config.max_subqueries)
    reply = await call_model(
        services.cheap,
        plan_prompt(task),
        node="plan",
        run_id=context.run_id,
        pool=context.pool,
        ledger=services.ledger,
        fallback=services.fallback,
        max_tokens=config.plan_max_tokens,
        min_tokens=config.min_output_tokens,
    )
    queries = parse_queries(reply.completion.text, config.max_subqueries) or [state["question"]]
    note_inputs(state["question"])
    note("searches: " + " · ".join(queries))
    parts = question_parts(state["question"])
    return {"sub_queries": queries, "asked": queries, "hop": 1, "parts": parts, "open_parts": parts}


def plan_needs(state: State, context: RunContext) -> Need:
    services = context.services
    tokens = count_tokens(state["question"]) + services.config.min_output_tokens
    return Need(tokens, worst_case_usd(services.cheap.price, tokens, services.config.min_output_tokens))
