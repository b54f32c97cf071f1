"""A chat session, as the Python API hands it out (`Assistant.chat()`): follow-ups are resolved
against the conversation, every turn is a budgeted research run, and the session's own budget caps
the conversation as a whole. The engine does all of that for any request naming the session
(graph/engine.py); this shell asks it and keeps the session's record for display. Turns persist in
PostgreSQL (graph/session_store.py), so a session resumes by id after a restart."""

from collections.abc import AsyncIterator, Iterator, Mapping
from typing import Any, TypedDict, Unpack

from quarry.agent.engine_loop import EngineLoop
from quarry.agent.inputs import search_filters
from quarry.corpus.filters import Principal, SearchFilters
from quarry.graph.answer import Answer, Citation
from quarry.graph.budget.limits import Limits
from quarry.graph.budget.session_budget import SessionUsage, turn_limits
from quarry.graph.engine import ResearchRequest
from quarry.graph.events import RunEvent
from quarry.graph.session_store import SessionRecord, SessionStore, TurnRecord


class TurnOptions(TypedDict, total=False):
    """The keyword options of a session's `ask`, `aask`, `stream` and `astream`."""

    filters: SearchFilters | Mapping[str, Any] | None
    """Metadata filters for this turn, as `SearchFilters` or a dict of its fields."""
    use_cache: bool
    """False: research afresh; nothing served from or stored in the semantic cache (default True)."""


class Session:
    def __init__(self, record: SessionRecord, *, engine: EngineLoop, sessions: SessionStore, per_question: Limits):
        self._record = record
        self._engine = engine
        self._sessions = sessions
        self.per_question: Limits = per_question
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
        """What the next turn may use; SessionBudgetSpent when the session has nothing left. Turns in
        flight in other processes hold part of the budget too (as of the last read)."""
        return turn_limits(self.per_question, self.budget, self.used + self._record.held)

    def ask(self, question: str, **options: Unpack[TurnOptions]) -> Answer:
        """The next turn: researched as a follow-up to the earlier ones, within what the session has left.
        `use_cache=False` researches afresh (nothing served from or stored in the semantic cache)."""
        return self._engine.ask(self._request(question, options), after=self._refresh)

    async def aask(self, question: str, **options: Unpack[TurnOptions]) -> Answer:
        return await self._engine.aask(self._request(question, options), after=self._refresh)

    def stream(self, question: str, **options: Unpack[TurnOptions]) -> Iterator[RunEvent]:
        return self._engine.stream(self._request(question, options, stream_text=True), after=self._refresh)

    def astream(self, question: str, **options: Unpack[TurnOptions]) -> AsyncIterator[RunEvent]:
        return self._engine.astream(self._request(question, options, stream_text=True), after=self._refresh)

    def _request(self, question: str, options: TurnOptions, *, stream_text: bool = False) -> ResearchRequest:
        return ResearchRequest(
            stream_text=stream_text,
            question=question,
            budget=self.per_question,
            filters=search_filters(options.get("filters")),
            principal=self.principal,
            session_id=self.id,
            use_cache=options.get("use_cache", True),
        )

    def _refresh(self, _: Answer) -> None:
        """The engine recorded the turn (or, for a spent session, nothing): read the session back."""
        self._record = self._sessions.load(self.id, self.principal)
