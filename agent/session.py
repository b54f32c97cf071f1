"""A chat session: follow-ups are resolved against the conversation, every turn is a budgeted
research run, and the session's own budget caps the conversation as a whole. Turns persist in
PostgreSQL, so a session resumes by id after a restart."""

from collections.abc import AsyncIterator, Iterator
from typing import TYPE_CHECKING

from quarry.agent.sessions import SessionRecord, TurnRecord
from quarry.corpus.filters import Principal, SearchFilters
from quarry.graph.answer import Answer, Citation
from quarry.graph.budget.limits import Limits
from quarry.graph.budget.session import SessionBudgetSpent, SessionUsage, turn_limits
from quarry.graph.budget.spend import Spend
from quarry.graph.events import FinalAnswer, RunEvent

if TYPE_CHECKING:
    from quarry.agent.assistant import Assistant


class Session:
    def __init__(self, assistant: "Assistant", record: SessionRecord, budget: Limits | None = None) -> None:
        self._assistant = assistant
        self._record = record
        self.per_question: Limits = budget or assistant.settings.research.budget
        """Each turn's own limits (clamped to what the session has left)."""

    @property
    def id(self) -> str:
        return self._record.id

    @property
    def principal(self) -> Principal:
        return self._record.principal

    @property
    def budget(self) -> Limits:
        """The session's ceilings over all its turns."""
        return self._record.budget

    @property
    def turns(self) -> tuple[TurnRecord, ...]:
        return self._record.turns

    @property
    def used(self) -> SessionUsage:
        return self._record.used

    @property
    def sources(self) -> tuple[Citation, ...]:
        """The last answer's citations."""
        return self.turns[-1].citations if self.turns else ()

    def next_limits(self) -> Limits:
        """What the next turn may use; SessionBudgetSpent when the session has nothing left."""
        return turn_limits(self.per_question, self.budget, self.used)

    def ask(self, question: str, *, filters: SearchFilters | dict | None = None) -> Answer:
        return self._assistant._loop.run(self._answer(question, filters=filters))

    async def aask(self, question: str, *, filters: SearchFilters | dict | None = None) -> Answer:
        return await self._assistant._loop.arun(self._answer(question, filters=filters))

    def stream(self, question: str, *, filters: SearchFilters | dict | None = None) -> Iterator[RunEvent]:
        return self._assistant._loop.iterate(self._stream(question, filters))

    def astream(self, question: str, *, filters: SearchFilters | dict | None = None) -> AsyncIterator[RunEvent]:
        return self._assistant._loop.aiterate(self._stream(question, filters))

    async def _answer(self, question: str, *, filters: SearchFilters | dict | None = None) -> Answer:
        answer: Answer | None = None
        async for event in self._stream(question, filters):
            if isinstance(event, FinalAnswer):
                answer = event.answer
        assert answer is not None
        return answer

    async def _stream(self, question: str, filters: SearchFilters | dict | None) -> AsyncIterator[RunEvent]:
        try:
            limits = self.next_limits()
        except SessionBudgetSpent as spent:
            yield FinalAnswer(_not_researched(question, spent), ())
            return
        history = [turn.turn for turn in self.turns]
        async for event in self._assistant._stream_on_loop(
            question,
            budget=limits,
            filters=filters,
            principal=self.principal,
            history=history,
        ):
            if isinstance(event, FinalAnswer):
                await self._assistant._in_thread(self._record_turn, question, event.answer)
            yield event

    def _record_turn(self, asked: str, answer: Answer) -> None:
        turn = self._assistant._sessions.add_turn(self.id, asked, answer)
        record = self._record
        self._record = SessionRecord(
            record.id, record.principal, record.budget, record.created_at, (*record.turns, turn)
        )


def _not_researched(question: str, spent: SessionBudgetSpent) -> Answer:
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
