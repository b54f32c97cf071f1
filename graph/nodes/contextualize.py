"""contextualize: a chat follow-up ("and who maintains it?") becomes a question that stands on its
own, written from the session's recent turns by the cheap model; research then runs on that."""

from typing import Any

from langgraph.runtime import Runtime

from quarry.corpus.tokens import count_tokens
from quarry.graph.budget.guard import Need
from quarry.graph.budget.metered import call_model
from quarry.graph.context import RunContext
from quarry.graph.state import State
from quarry.graph.trace import note, note_inputs
from quarry.tools.llm.base import ContextualizeTask
from quarry.tools.llm.pricing import worst_case_usd
from quarry.tools.llm.prompts import contextualize_prompt, parse_standalone


async def contextualize(state: State, runtime: Runtime[RunContext]) -> dict[str, Any]:
    context = runtime.context
    services = context.services
    config = services.config
    task = ContextualizeTask(state["question"], tuple(state.get("history", [])[-config.history_turns :]))
    reply = await call_model(
        services.cheap,
        contextualize_prompt(task),
        node="contextualize",
        run_id=context.run_id,
        pool=context.pool,
        ledger=services.ledger,
        fallback=services.fallback,
        max_tokens=config.contextualize_max_tokens,
        min_tokens=config.min_output_tokens,
    )
    standalone = parse_standalone(reply.completion.text, state["question"])
    note_inputs(f"{state['question']} (after {len(task.history)} turn(s))")
    note(f"researched as: {standalone}")
    return {"question": standalone, "asked_as": state["question"]}


def contextualize_needs(state: State, context: RunContext) -> Need:
    services = context.services
    turns = state.get("history", [])[-services.config.history_turns :]
    tokens = count_tokens(state["question"] + "".join(t.question + t.answer for t in turns))
    tokens += services.config.min_output_tokens
    return Need(tokens, worst_case_usd(services.cheap.price, tokens, services.config.min_output_tokens))
