"""Runs one question through the compiled graph: opens the run in the ledger, gives the run its
own budget pool, and closes the run with the answer, whatever stopped it."""

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import asdict, dataclass, replace
from typing import Any

from quarry.corpus.filters import Principal, SearchFilters
from quarry.graph.answer import Answer
from quarry.graph.budget.account import AccountTab
from quarry.graph.budget.ledger import RunClosed, RunOpened
from quarry.graph.budget.limits import Limits
from quarry.graph.budget.pool import BudgetPool
from quarry.graph.builder import build_graph
from quarry.graph.context import RunContext, Services
from quarry.graph.errors import InvalidQuestion
from quarry.graph.events import DraftReady, FinalAnswer, HitsFound, NodeFinished, RunEvent, TokensSpent
from quarry.graph.telemetry import FinishedRun
from quarry.graph.trace import Span
from quarry.tools.llm.base import Turn

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
        history: Sequence[Turn] = (),
        use_cache: bool = True,
        on_span: Callable[[Span], None] | None = None,
    ) -> RunResult:
        """Answer one question within `limits`; `on_span` hears of every node as it finishes."""
        async for event in self.stream(
            question,
            principal=principal,
            filters=filters,
            limits=limits,
            history=history,
            use_cache=use_cache,
        ):
            if isinstance(event, NodeFinished) and on_span is not None:
                on_span(event.span)
            elif isinstance(event, FinalAnswer):
                return RunResult(event.answer, list(event.trace))
        raise AssertionError("a run always ends with its final answer")

    async def stream(
        self,
        question: str,
        *,
        principal: Principal | None = None,
        filters: SearchFilters | None = None,
        limits: Limits | None = None,
        history: Sequence[Turn] = (),
        use_cache: bool = True,
    ) -> AsyncIterator[RunEvent]:
        """Answer one question, yielding what happens as it happens; the last event is the `FinalAnswer`.
        `history` (a chat session's earlier turns) makes the question a follow-up to resolve first;
        `use_cache=False` researches afresh (nothing served from or stored in the semantic cache).
        Closing the iterator early cancels the run (recorded in the ledger as failed)."""
        question = validate_question(question)
        principal = principal or Principal()
        filters = filters or SearchFilters()
        limits = limits or self.services.config.budget
        run_id = str(uuid.uuid4())
        started_ns = time.time_ns()
        accounts, account = self.services.accounts, self.services.config.account
        pool = BudgetPool(limits, account=AccountTab(accounts, account, run_id) if accounts and account else None)
        ledger = self.services.ledger
        version = await asyncio.to_thread(self.corpus_version)
        await asyncio.to_thread(
            ledger.open_run,
            RunOpened(
                run_id,
                question,
                principal.id,
                principal.groups,
                filters.model_dump(mode="json"),
                limits.model_dump(mode="json"),
                version,
            ),
        )
        events: asyncio.Queue[RunEvent | None] = asyncio.Queue()
        context = RunContext(
            run_id, pool, self.services, corpus_version=version, use_cache=use_cache, emit=events.put_nowait
        )
        inputs: dict[str, Any] = {"question": question, "principal": principal, "filters": filters}
        if history:
            inputs["history"] = list(history)
        worker = asyncio.create_task(self._drive(inputs, context, events, started_ns))
        try:
            while (event := await events.get()) is not None:
                yield event
            await worker
        finally:
            if not worker.done():
                worker.cancel()
                await asyncio.gather(worker, return_exceptions=True)

    async def _drive(
        self,
        inputs: dict[str, Any],
        context: RunContext,
        events: "asyncio.Queue[RunEvent | None]",
        started_ns: int,
    ) -> None:
        pool, ledger, run_id = context.pool, self.services.ledger, context.run_id
        trace: list[Span] = []
        final: Answer | None = None
        hop = 0
        try:
            async for update in self.graph.astream(
                inputs,
                config={"recursion_limit": pool.limits.recursion_limit()},
                context=context,
                stream_mode="updates",
            ):
                for values in update.values():
                    hop = (values or {}).get("hop", hop)
                    for event in _events_of(values or {}, context, hop):
                        if isinstance(event, NodeFinished):
                            trace.append(event.span)
                        events.put_nowait(event)
                    final = (values or {}).get("answer") or final
            assert final is not None, "finalize always produces an answer"
            answer = replace(final, elapsed_s=time.monotonic() - pool.started_at)
            total = answer.spend.total()
            await asyncio.to_thread(
                ledger.close_run,
                RunClosed(
                    run_id,
                    "partial" if answer.partial else "complete",
                    answer.stopped_by,
                    answer.hops,
                    answer.text,
                    answer.to_json(),
                    total.usd,
                    total.input_tokens,
                    total.output_tokens,
                    answer.elapsed_s * 1000,
                    [asdict(span) for span in trace],
                    answer.cache_hit,
                    answer.saved_usd,
                ),
            )
            if pool.account is not None:
                await asyncio.to_thread(pool.account.accounts.forfeit_run, run_id)
            if self.services.telemetry is not None:
                await asyncio.to_thread(
                    self.services.telemetry.export,
                    FinishedRun(
                        run_id,
                        inputs["question"],
                        inputs["principal"].id,
                        started_ns,
                        answer.elapsed_s * 1000,
                        "partial" if answer.partial else "complete",
                        answer.stopped_by,
                        answer.hops,
                        total.tokens,
                        total.usd,
                        answer.cache_hit,
                        tuple(trace),
                    ),
                )
            events.put_nowait(FinalAnswer(answer, tuple(trace)))
        except BaseException:
            await asyncio.shield(asyncio.to_thread(_close_failed, ledger, run_id, pool))
            raise
        finally:
            events.put_nowait(None)

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


def _events_of(values: dict[str, Any], context: RunContext, hop: int) -> list[RunEvent]:
    """The events one node's state update carries, in the order a reader wants them."""
    events: list[RunEvent] = []
    for result in values.get("searches", []):
        titles = tuple(dict.fromkeys(c.hit.title for c in result.candidates))[:3]
        events.append(HitsFound(result.query, result.hop, len(result.candidates), titles))
    draft = values.get("draft")
    if draft is not None and draft.check.claims:
        events.append(DraftReady(" ".join(c.text for c in draft.check.claims), draft.hop, draft.model))
    for span in values.get("trace", []):
        if span.tokens or span.usd:
            tokens, usd = context.pool.spent()
            events.append(TokensSpent(span.node, span.tokens, span.usd, tokens, usd))
        events.append(NodeFinished(span, hop, context.left(hop)))
    return events


def validate_question(question: str) -> str:
    text = question.strip() if isinstance(question, str) else ""
    if not text:
        raise InvalidQuestion('the question is empty: ask something, e.g. quarry ask "Which team owns Ledgerline?"')
    if len(text) > MAX_QUESTION_CHARS:
        raise InvalidQuestion(f"the question is {len(text)} characters long; the limit is {MAX_QUESTION_CHARS}")
    return text


def _close_failed(ledger, run_id: str, pool: BudgetPool) -> None:
    tokens, usd = pool.spent()
    try:
        ledger.close_run(
            RunClosed(
                run_id, "failed", "error", 0, "", {}, usd, tokens, 0, (time.monotonic() - pool.started_at) * 1000, []
            )
        )
    except Exception:  # the failure that got us here (often the database itself) is the one to report
        pass
