"""synthesize: draft an answer from the packed evidence (one premium-model call), then verify
every citation against the passages the model was actually shown."""

from collections.abc import Callable, Sequence
from typing import Any

from langgraph.runtime import Runtime

from quarry.corpus.tokens import count_tokens
from quarry.graph.budget.guard import Need
from quarry.graph.budget.metered import call_model
from quarry.graph.context import RunContext
from quarry.graph.events import TextDelta
from quarry.graph.outcome import still_open
from quarry.graph.state import Draft, Evidence, State, Stop
from quarry.graph.trace import note, note_inputs
from quarry.tools.citations import check_citations
from quarry.tools.llm.answer_stream import AnswerStream
from quarry.tools.llm.base import Passage, SynthesizeTask
from quarry.tools.llm.pricing import worst_case_usd
from quarry.tools.llm.prompts import parse_synthesis, synthesize_prompt
from quarry.tools.question_parts import question_parts


async def synthesize(state: State, runtime: Runtime[RunContext]) -> dict[str, Any]:
    context = runtime.context
    services = context.services
    config = services.config
    chosen = pack_evidence(state.get("evidence", []), config.evidence_tokens)
    if not chosen:
        return {"gaps": []}
    passages = tuple(Passage(e.marker, e.hit.title, e.hit.source, e.hit.text) for e in chosen)
    task = SynthesizeTask(state["question"], passages, tuple(state.get("asked", [])))
    reply = await call_model(
        services.premium,
        synthesize_prompt(task),
        node="synthesize",
        run_id=context.run_id,
        pool=context.pool,
        ledger=services.ledger,
        fallback=services.fallback,
        max_tokens=config.synthesize_max_tokens,
        min_tokens=config.min_output_tokens,
        on_text=_text_relay(context, state["hop"]),
    )
    parsed = parse_synthesis(reply.completion.text)
    check = check_citations(parsed.answer, {p.marker: p.text for p in passages}, min_support=config.min_support)
    note_inputs(f"{len(passages)} passage(s), {sum(e.tokens for e in chosen)} evidence tokens")
    if parsed.repairs:
        note(f"reply format repaired ({', '.join(parsed.repairs)})")
    unusable = _unusable(parsed.answer, parsed.labelled, check.kept)
    if unusable:
        # A small model that ignored the format: the run answers from the evidence (or an earlier draft),
        # partial, naming the model, rather than keep an uncited reply or loop on its gaps.
        detail = f"{reply.completion.model} {unusable}"
        note(detail)
        return {"gaps": [], "stop": Stop("error", detail)}
    draft = Draft(check, tuple(p.marker for p in passages), reply.completion.model, state["hop"])
    parts = state.get("parts") or question_parts(state["question"])
    unanswered = still_open(parts, check, {p.marker: p.title for p in passages})
    note(
        f"{len(check.claims)} sentence(s), {check.kept} citation(s) kept, {len(parsed.gaps)} gap(s), "
        f"{len(parts) - len(unanswered)} of {len(parts)} part(s) answered"
    )
    if parsed.extra_sections:
        note(f"{parsed.extra_sections} extra ANSWER/GAPS section(s) in the reply ignored (an echo of document text)")
    return {"draft": draft, "gaps": parsed.gaps, "open_parts": unanswered}


def _text_relay(context: RunContext, hop: int) -> Callable[[str], None] | None:
    """What hands the reply's answer text on as TextDelta events while it is written; None when not asked."""
    emit = context.emit
    if not context.stream_text or emit is None:
        return None
    answer = AnswerStream()

    def relay(piece: str) -> None:
        if shown := answer.feed(piece):
            emit(TextDelta(shown, hop))

    return relay


def _unusable(answer: str, labelled: bool, cited: int) -> str:
    """Why a reply cannot be a draft ("" when it can): empty, or unlabelled prose citing nothing."""
    if not answer:
        return "sent no usable answer (empty or malformed reply)"
    if not labelled and not cited:
        return "ignored the reply format (no ANSWER section and no valid [n] citation)"
    return ""


def pack_evidence(evidence: Sequence[Evidence], token_budget: int) -> list[Evidence]:
    """Best-scored evidence that fits the budget, whole chunks only, shown in marker order."""
    chosen: list[Evidence] = []
    used = 0
    for item in sorted(evidence, key=lambda e: (-e.score, e.marker)):
        if used + item.tokens <= token_budget:
            chosen.append(item)
            used += item.tokens
    return sorted(chosen, key=lambda e: e.marker)


def synthesize_needs(state: State, context: RunContext) -> Need:
    services = context.services
    config = services.config
    evidence_tokens = sum(e.tokens for e in pack_evidence(state.get("evidence", []), config.evidence_tokens))
    if not evidence_tokens:
        return Need()
    tokens = evidence_tokens + count_tokens(state["question"]) + config.min_output_tokens
    return Need(tokens, worst_case_usd(services.premium.price, tokens, config.min_output_tokens))
