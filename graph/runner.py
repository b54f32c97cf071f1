"""Runs one question through the compiled graph: opens the run in the ledger, gives the run its
own budget pool, and closes the run with the answer, whatever stopped it."""

import asyncio
import time
import uuid
from collections.abc import Callable
from typing import Any
from dataclasses import asdict, dataclass, replace

from corpus.filters import Principal, SearchFilters
from graph.answer import Answer
from graph.budget.ledger import RunClosed, RunOpened
from graph.budget.limits import Limits
from graph.budget.pool import BudgetPool
from graph.builder import build_graph
from graph.context import RunContext, Services
from graph.errors import InvalidQuestion
from graph.trace import Span

MAX_QUESTION_CHARS = 4000


@dataclass(frozen=True)
class RunResult:
    answer: Answer
    trace: list[Span]


class Researcher:
    def __init__(self, services: Services, corpus_version: Callable[[], int]) -> None:
        self.services = services
        self.corpus_version = corpus_version
        self.graph = build_graph()

    async def ask(
        self,
        question: str,
        *,
        principal: Principal | None = None,
        filters: SearchFilters | None = None,
        limits: Limits | None = None,
        on_span: Callable[[Span], None] | None = None,
    ) -> RunResult:
        """Answer one question within `limits`; `on_span` hears of every node as it finishes."""
        question = validate_question(question)
        principal = principal or Principal()
        filters = filters or SearchFilters()
        limits = limits or self.services.config.budget
        run_id = str(uuid.uuid4())
        pool = BudgetPool(limits)
        ledger = self.services.ledger
        version = await asyncio.to_thread(self.corpus_version)
        await asyncio.to_thread(ledger.open_run, RunOpened(
            run_id, question, principal.id, principal.groups, filters.model_dump(mode="json"),
            limits.model_dump(mode="json"), version,
        ))
        context = RunContext(run_id, pool, self.services)
        trace: list[Span] = []
        final: Answer | None = None
        try:
            async for update in self.graph.astream(
                {"question": question, "principal": principal, "filters": filters},
                config={"recursion_limit": limits.recursion_limit()},
                context=context,
                stream_mode="updates",
            ):
                for values in update.values():
                    final = _collect(values, trace, on_span) or final
        except BaseException:
            await asyncio.shield(asyncio.to_thread(_close_failed, ledger, run_id, pool))
            raise
        assert final is not None, "finalize always produces an answer"
        answer = replace(final, elapsed_s=time.monotonic() - pool.started_at)
        total = answer.spend.total()
        await asyncio.to_thread(ledger.close_run, RunClosed(
            run_id, "partial" if answer.partial else "complete", answer.stopped_by, answer.hops, answer.text,
            answer.to_json(), total.usd, total.input_tokens, total.output_tokens, answer.elapsed_s * 1000,
            [asdict(span) for span in trace],
        ))
        return RunResult(answer, trace)


    async def aclose(self) -> None:
        """Close the models' network clients (Claude); the offline model has none."""
        for model in {id(m): m for m in (self.services.cheap, self.services.premium)}.values():
            close = getattr(model, "aclose", None)
            if close is not None:
                await close()

    async def __aenter__(self) -> "Researcher":
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()


def _collect(values: dict[str, Any] | None, trace: list[Span], on_span: Callable[[Span], None] | None) -> Answer | None:
    for span in (values or {}).get("trace", []):
        trace.append(span)
        if on_span is not None:
            on_span(span)
    return (values or {}).get("answer")


def validate_question(question: str) -> str:
    text = question.strip() if isinstance(question, str) else ""
    if not text:
        raise InvalidQuestion("the question is empty: ask something, e.g. quarry ask \"Which team owns Ledgerline?\"")
    if len(text) > MAX_QUESTION_CHARS:
        raise InvalidQuestion(f"the question is {len(text)} characters long; the limit is {MAX_QUESTION_CHARS}")
    return text


def _close_failed(ledger, run_id: str, pool: BudgetPool) -> None:
    tokens, usd = pool.spent()
    try:
        ledger.close_run(RunClosed(run_id, "failed", "error", 0, "", {}, usd, tokens, 0, (time.monotonic() - pool.started_at) * 1000, []))
    except Exception:  # the failure that got us here (often the database itself) is the one to report
        pass
