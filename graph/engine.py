"""The research engine: the one async core behind every front door (`Assistant`, `Session`,
`quarry ask`, `quarry chat`, `quarry eval qa`, and the HTTP service to come).

    engine = Engine(retriever=..., embedder=..., cheap=..., premium=..., ledger=..., config=...,
                    corpus_version=lambda: 0)
    async for event in engine.stream(ResearchRequest(question="Which team owns Ledgerline?")):
        ...  # NodeStarted, HitsFound, TokensSpent, DraftReady, NodeFinished …, last the FinalAnswer

A run opens its row in the ledger, gets its own budget pool, runs the compiled graph and closes
its row with the answer, whatever stopped it. A request that names a chat session is a turn of it:
the engine reads the session (its earlier turns make the question a follow-up; its budget clamps
the turn's limits; a spent session answers without researching) and records the turn after it.
"""

import asyncio
import contextlib
import time
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from quarry.corpus.filters import Principal, SearchFilters
from quarry.corpus.storable import unstorable_character
from quarry.errors import InvalidQuestion, SessionBudgetSpent
from quarry.graph.answer import Answer
from quarry.graph.budget.account import Accounts, AccountTab
from quarry.graph.budget.ledger import Ledger, RunClosed, RunOpened
from quarry.graph.budget.limits import Limits
from quarry.graph.budget.pool import BudgetPool
from quarry.graph.budget.spend import Spend
from quarry.graph.builder import build_graph
from quarry.graph.config import ResearchConfig
from quarry.graph.context import (
    CandidateReranker,
    CaptionImages,
    QueryEmbedder,
    Retriever,
    RunContext,
    Services,
    TraceExporter,
)
from quarry.graph.events import DraftReady, FinalAnswer, HitsFound, NodeFinished, RunEvent, TokensSpent
from quarry.graph.session_store import SessionStore
from quarry.graph.state import InputState
from quarry.graph.telemetry import FinishedRun
from quarry.graph.trace import Span
from quarry.tools.cache import SemanticCache
from quarry.tools.llm.base import ChatModel, Turn

MAX_QUESTION_CHARS = 4000


@dataclass(frozen=True, kw_only=True, slots=True)
class ResearchRequest:
    """One question for the engine, as every front door asks it."""

    question: str
    budget: Limits | None = None
    """The run's limits; None: research.budget. In a session, clamped to what the session has left."""
    filters: SearchFilters = field(default_factory=SearchFilters)
    principal: Principal | None = None
    """Who asks; None: the anonymous public reader. With a session it must be the session's owner,
    id and groups (SessionNotFound otherwise, worded as for a session that does not exist)."""
    session_id: str | None = None
    """A chat session this question is the next turn of (its history, its budget; the turn is recorded)."""
    history: tuple[Turn, ...] = ()
    """Earlier turns to resolve a follow-up against, for a conversation kept outside the session store."""
    use_cache: bool = True
    """False: research afresh; nothing is served from or stored in the semantic cache."""
    stream_text: bool = False
    """True: a streaming model's synthesis text also arrives as TextDelta events (`stream`/`astream`)
    as it is written. Off by default: a streamed reply is not retried once text has been shown."""
    account: str | None = None
    """A shared budget account the run charges instead of research.account (an HTTP API key's account)."""


@dataclass(frozen=True, kw_only=True, slots=True)
class RunResult:
    answer: Answer
    trace: tuple[Span, ...]


class Engine:
    def __init__(
        self,
        *,
        retriever: Retriever,
        embedder: QueryEmbedder,
        cheap: ChatModel,
        premium: ChatModel,
        ledger: Ledger,
        config: ResearchConfig,
        corpus_version: Callable[[], int],
        sessions: SessionStore | None = None,
        reranker: CandidateReranker | None = None,
        llm_rerank: bool = False,
        cache: SemanticCache | None = None,
        assets: CaptionImages | None = None,
        telemetry: TraceExporter | None = None,
        fallback: ChatModel | None = None,
        accounts: Accounts | None = None,
    ) -> None:
        """Components come in here (fakes in tests); `corpus_version` reads the corpus's current version
        and `sessions` is the chat-session store (None: requests naming a session are refused)."""
        self.services = Services(
            retriever=retriever,
            embedder=embedder,
            cheap=cheap,
            premium=premium,
            ledger=ledger,
            config=config,
            reranker=reranker,
            llm_rerank=llm_rerank,
            cache=cache,
            assets=assets,
            telemetry=telemetry,
            fallback=fallback,
            accounts=accounts,
        )
        self.sessions = sessions
        self.corpus_version = corpus_version
        self.graph = build_graph()

    async def run(self, request: ResearchRequest) -> RunResult:
        """Answer one request; `stream` with only its end."""
        async for event in self.stream(request):
            if isinstance(event, FinalAnswer):
                return RunResult(answer=event.answer, trace=tuple(event.trace))
        raise AssertionError("a run always ends with its final answer")

    async def stream(self, request: ResearchRequest) -> AsyncIterator[RunEvent]:
        """Answer one request, yielding what happens as it happens; the last event is the `FinalAnswer`.
        Closing the iterator early cancels the run (recorded in the ledger as cancelled)."""
        if request.session_id is not None:
            async for event in self._turn(request, request.session_id):
                yield event
            return
        limits = request.budget or self.services.config.budget
        principal = request.principal or Principal()
        async for event in self._research(request, limits=limits, principal=principal, history=request.history):
            yield event

    async def _turn(self, request: ResearchRequest, session_id: str) -> AsyncIterator[RunEvent]:
        """One turn of a chat session: its limits held on what the session has left (in any process),
        its turns as history; the hold is replaced by the turn when recorded, released if it fails."""
        store = self.sessions
        if store is None:
            raise ValueError("this engine has no session store; build it with sessions=")
        per_question = request.budget or self.services.config.budget
        try:
            ticket = await asyncio.to_thread(
                store.begin_turn, session_id, request.principal or Principal(), per_question
            )
        except SessionBudgetSpent as spent:
            yield FinalAnswer(_not_researched(request.question, spent), ())
            return
        record, recorded = ticket.record, False
        history = (*(turn.turn for turn in record.turns), *request.history)
        try:
            async for event in self._research(
                request, limits=ticket.limits, principal=record.principal, history=history
            ):
                if isinstance(event, FinalAnswer):
                    await asyncio.to_thread(store.add_turn, session_id, request.question, event.answer, ticket.hold)
                    recorded = True
                yield event
        finally:
            if not recorded:
                with contextlib.suppress(Exception):
                    await asyncio.shield(asyncio.to_thread(store.release, ticket.hold))

    async def _research(
        self, request: ResearchRequest, *, limits: Limits, principal: Principal, history: tuple[Turn, ...]
    ) -> AsyncIterator[RunEvent]:
        question = validate_question(request.question)
        filters = request.filters
        run_id = str(uuid.uuid4())
        started_ns = time.time_ns()
        accounts, account = self.services.accounts, request.account or self.services.config.account
        pool = BudgetPool(limits, account=AccountTab(accounts, account, run_id) if accounts and account else None)
        ledger = self.services.ledger
        version = await asyncio.to_thread(self.corpus_version)
        await asyncio.to_thread(
            ledger.open_run,
            RunOpened(
                run_id=run_id,
                question=question,
                principal_id=principal.id,
                principal_groups=principal.groups,
                filters=filters.model_dump(mode="json"),
                limits=limits.model_dump(mode="json"),
                corpus_version=version,
            ),
        )
        events: asyncio.Queue[RunEvent | None] = asyncio.Queue()
        context = RunContext(
            run_id,
            pool,
            self.services,
            corpus_version=version,
            use_cache=request.use_cache,
            stream_text=request.stream_text,
            emit=events.put_nowait,
        )
        inputs: InputState = {"question": question, "principal": principal, "filters": filters}
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
        inputs: InputState,
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
                    run_id=run_id,
                    status="partial" if answer.partial else "complete",
                    stopped_by=answer.stopped_by,
                    hops=answer.hops,
                    answer=answer.text,
                    result=answer.dump(),
                    usd=total.usd,
                    input_tokens=total.input_tokens,
                    output_tokens=total.output_tokens,
                    elapsed_ms=answer.elapsed_s * 1000,
                    trace=[span.dump() for span in trace],
                    cache_hit=answer.cache_hit,
                    saved_usd=answer.saved_usd,
                ),
            )
            if pool.account is not None:
                await asyncio.to_thread(pool.account.accounts.forfeit_run, run_id)
            if self.services.telemetry is not None:
                await asyncio.to_thread(
                    self.services.telemetry.export,
                    FinishedRun(
                        run_id=run_id,
                        question=inputs["question"],
                        principal_id=inputs["principal"].id,
                        started_ns=started_ns,
                        elapsed_ms=answer.elapsed_s * 1000,
                        status="partial" if answer.partial else "complete",
                        stopped_by=answer.stopped_by,
                        hops=answer.hops,
                        tokens=total.tokens,
                        usd=total.usd,
                        cache_hit=answer.cache_hit,
                        spans=tuple(trace),
                    ),
                )
            events.put_nowait(FinalAnswer(answer, tuple(trace)))
        except BaseException as exc:
            # A cancelled run (its caller left: an HTTP client closed the stream) is recorded as such.
            status: Literal["failed", "cancelled"] = (
                "cancelled" if isinstance(exc, asyncio.CancelledError) else "failed"
            )
            await asyncio.shield(asyncio.to_thread(_close_failed, ledger, run_id, pool, status))
            raise
        finally:
            events.put_nowait(None)

    async def aclose(self) -> None:
        """Close the models' network clients (Claude); the offline model has none."""
        for model in {id(m): m for m in (self.services.cheap, self.services.premium)}.values():
            close = getattr(model, "aclose", None)
            if close is not None:
                await close()

    async def __aenter__(self) -> "Engine":
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
        dropped = draft.check.unresolved + draft.check.unsupported
        events.append(DraftReady(" ".join(c.text for c in draft.check.claims), draft.hop, draft.model, dropped))
    for span in values.get("trace", []):
        if span.tokens or span.usd:
            tokens, usd = context.pool.spent()
            events.append(TokensSpent(span.node, span.tokens, span.usd, tokens, usd))
        events.append(NodeFinished(span, hop, context.left(hop)))
    return events


def validate_question(question: str) -> str:
    if not isinstance(question, str):
        raise InvalidQuestion(f"the question must be text, not {type(question).__name__}")
    if bad := unstorable_character(question):
        raise InvalidQuestion(f"the question contains {bad}; ask it as plain text")
    text = question.strip()
    if not text:
        raise InvalidQuestion('the question is empty: ask something, e.g. quarry ask "Which team owns Ledgerline?"')
    if len(text) > MAX_QUESTION_CHARS:
        raise InvalidQuestion(f"the question is {len(text)} characters long; the limit is {MAX_QUESTION_CHARS}")
    return text


def _not_researched(question: str, spent: SessionBudgetSpent) -> Answer:
    """The answer to a turn its session has no budget left for: nothing ran, nothing was spent."""
    return Answer(
        question=question,
        text=f"Not researched: {spent}. Start a new session or give this one a larger budget.",
        citations=(),
        partial=True,
        stopped_by=spent.reason,
        stop_detail=f"session budget: {spent.detail}",
        hops=0,
        spend=Spend(),
        run_id="",
        elapsed_s=0.0,
        asked_as=question,
    )


def _close_failed(
    ledger: Ledger, run_id: str, pool: BudgetPool, status: Literal["failed", "cancelled"] = "failed"
) -> None:
    tokens, usd = pool.spent()
    # The failure that got us here (often the database itself) is the one to report.
    with contextlib.suppress(Exception):
        ledger.close_run(
            RunClosed(
                run_id=run_id,
                status=status,
                stopped_by="error",
                hops=0,
                answer="",
                result={},
                usd=usd,
                input_tokens=tokens,
                output_tokens=0,
                elapsed_ms=(time.monotonic() - pool.started_at) * 1000,
                trace=[],
            )
        )
