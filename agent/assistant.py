"""The Python API: one Assistant per corpus and configuration.

    from quarry.agent import Assistant, Limits

    with Assistant.from_config() as assistant:
        answer = assistant.ask("Which team owns Ledgerline?", budget=Limits(max_usd=0.05))
        print(answer.text, answer.citations, answer.spend.total().usd)
        session = assistant.chat()
        session.ask("Which team owns Ledgerline?")
        session.ask("And who leads it?")

Every method has an async twin (`aask`, `astream`, `Session.aask`, `Session.astream`); all runs of
an Assistant execute on its own event loop (see agent/loop.py), so the sync API also works inside
notebooks and the async API never blocks the caller's loop.
"""

import asyncio
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from pydantic import ValidationError

from quarry.agent.errors import QuarryError
from quarry.agent.history import RunRecord, RunSummary, SpendKey, SpendRow, load_run, recent_runs, spend_by
from quarry.agent.loop import LoopThread
from quarry.agent.passages import CitedPassage, open_citation
from quarry.agent.runtime import Runtime
from quarry.agent.session import Session
from quarry.agent.sessions import SessionStore
from quarry.agent.settings import Settings, load_settings
from quarry.corpus.filters import Principal, SearchFilters
from quarry.corpus.ingest import IngestEvent, IngestReport
from quarry.graph.answer import Answer, Citation
from quarry.graph.budget.limits import Limits
from quarry.graph.events import FinalAnswer, RunEvent
from quarry.tools.llm.base import Turn

T = TypeVar("T")


class InvalidFilters(QuarryError):
    """`filters=` names an unknown field or a value of the wrong kind."""


# Short names for the settings people override most from Python.
_ALIASES = {"data_dir": "storage.data_dir", "database_url": "database.url", "provider": "llm.provider"}


class Assistant:
    def __init__(self, settings: Settings, *, environ: Mapping[str, str] | None = None) -> None:
        self.runtime = Runtime(settings, environ)
        self._loop = LoopThread()
        self._closed = False

    @classmethod
    def from_config(
        cls, path: str | Path | None = None, *, environ: Mapping[str, str] | None = None, **overrides: Any
    ) -> "Assistant":
        """Settings from `path` (default: $QUARRY_CONFIG or ./config.yaml), the environment, then
        `overrides`: a section as a dict (`llm={"provider": "offline"}`), a key as
        `section__key=value`, or a short name: data_dir, database_url, provider."""
        dotted = {_ALIASES.get(key, key.replace("__", ".")): value for key, value in overrides.items()}
        settings = load_settings(
            Path(path) if path is not None else None,
            overrides=dotted,
            environ=dict(environ) if environ is not None else None,
        )
        return cls(settings, environ=environ)

    @property
    def settings(self) -> Settings:
        return self.runtime.settings

    # -- questions --------------------------------------------------------------------------------

    def ask(
        self,
        question: str,
        *,
        budget: Limits | None = None,
        filters: SearchFilters | Mapping[str, Any] | None = None,
        principal: Principal | str | None = None,
        use_cache: bool = True,
    ) -> Answer:
        """Research `question` within `budget` (default: research.budget in config) and return the
        answer with citations; a limit makes it partial, never an exception. A question answered
        before for the same reader scope and corpus version is served from the semantic cache
        (`answer.cache_hit`) unless `use_cache=False`."""
        return self._loop.run(
            self._answer(question, budget=budget, filters=filters, principal=principal, use_cache=use_cache)
        )

    async def aask(
        self,
        question: str,
        *,
        budget: Limits | None = None,
        filters: SearchFilters | Mapping[str, Any] | None = None,
        principal: Principal | str | None = None,
        use_cache: bool = True,
    ) -> Answer:
        return await self._loop.arun(
            self._answer(question, budget=budget, filters=filters, principal=principal, use_cache=use_cache)
        )

    def stream(
        self,
        question: str,
        *,
        budget: Limits | None = None,
        filters: SearchFilters | Mapping[str, Any] | None = None,
        principal: Principal | str | None = None,
        use_cache: bool = True,
    ) -> Iterator[RunEvent]:
        """`astream` for synchronous code."""
        return self._loop.iterate(
            self._stream_on_loop(question, budget=budget, filters=filters, principal=principal, use_cache=use_cache)
        )

    def astream(
        self,
        question: str,
        *,
        budget: Limits | None = None,
        filters: SearchFilters | Mapping[str, Any] | None = None,
        principal: Principal | str | None = None,
        use_cache: bool = True,
    ) -> AsyncIterator[RunEvent]:
        """The run's events as they happen (graph.events): NodeStarted, HitsFound, TokensSpent,
        DraftReady, NodeFinished …, and last the FinalAnswer. Closing the iterator early
        (`aclose()`) cancels the run; it is recorded as failed."""
        return self._loop.aiterate(
            self._stream_on_loop(question, budget=budget, filters=filters, principal=principal, use_cache=use_cache)
        )

    def chat(
        self,
        *,
        principal: Principal | str | None = None,
        budget: Limits | None = None,
        session_budget: Limits | None = None,
        session_id: str | None = None,
    ) -> Session:
        """A new conversation, or the one with `session_id` (resumed from PostgreSQL). `budget` caps
        each turn; `session_budget` (default: research.session_budget) caps the whole conversation."""
        store = self._sessions
        if session_id is not None:
            record = store.load(session_id, _principal(principal) if principal is not None else None)
        else:
            record = store.create(_principal(principal), session_budget or self.settings.research.session_budget)
        return Session(self, record, budget)

    # -- corpus and ledger ------------------------------------------------------------------------

    def ingest(
        self,
        *paths: str | Path,
        defaults: Mapping[str, Any] | None = None,
        on_progress: Callable[[IngestEvent], None] | None = None,
    ) -> IngestReport:
        """What `quarry ingest PATH...` does: files or folders, with metadata defaults for fields a
        document leaves out. Refusals are in the report, each naming the document and field."""
        from quarry.corpus.loaders import load_paths

        loaded = load_paths(
            [Path(p) for p in paths],
            defaults=dict(defaults or {}),
            max_bytes=self.settings.ingest.max_document_bytes,
            max_asset_bytes=self.settings.ingest.max_asset_bytes,
        )
        return self.runtime.ingestor.ingest_documents(loaded, progress=on_progress)

    def open_citation(
        self, citation: Citation, *, principal: Principal | str | None = None, context_chars: int = 400
    ) -> CitedPassage:
        """The cited passage inside its document, with `context_chars` either side, if `principal` may read it."""
        return open_citation(self.runtime.store, citation, _principal(principal), context_chars=context_chars)

    def runs(self, *, limit: int = 20, principal: Principal | str | None = None) -> list[RunSummary]:
        """Recent runs: a principal's own, or (with none) everyone's, the operator's view."""
        return recent_runs(
            self.runtime.db, limit=limit, principal_id=None if principal is None else _principal(principal).id
        )

    def run(self, run_id: str, *, principal: Principal | str | None = None) -> RunRecord:
        """One run's trace and calls. Given a principal, only their own run, with evidence they can
        no longer read redacted (RunForbidden otherwise); with none, the operator's view."""
        return load_run(self.runtime.db, run_id, viewer=None if principal is None else _principal(principal))

    def spend(self, by: SpendKey = "node", *, since: datetime | None = None) -> list[SpendRow]:
        return spend_by(self.runtime.db, by, since=since)

    # -- lifecycle --------------------------------------------------------------------------------

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if "researcher" in self.runtime.__dict__:
            self._loop.run(self.runtime.researcher.aclose())
        self._loop.close()
        self.runtime.close()

    def __enter__(self) -> "Assistant":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    async def __aenter__(self) -> "Assistant":
        return self

    async def __aexit__(self, *exc: object) -> None:
        await asyncio.to_thread(self.close)

    # -- on the Assistant's loop ------------------------------------------------------------------

    @property
    def _sessions(self) -> SessionStore:
        return SessionStore(self.runtime.db)

    async def _answer(self, question: str, **options: Any) -> Answer:
        async for event in self._stream_on_loop(question, **options):
            if isinstance(event, FinalAnswer):
                return event.answer
        raise AssertionError("a run always ends with its final answer")

    async def _stream_on_loop(
        self,
        question: str,
        *,
        budget: Limits | None,
        filters: SearchFilters | Mapping[str, Any] | None,
        principal: Principal | str | None,
        history: Iterable[Turn] = (),
        use_cache: bool = True,
    ) -> AsyncIterator[RunEvent]:
        # Building the components loads the embedding model and opens the database: not on the loop.
        researcher = await self._in_thread(lambda: self.runtime.researcher)
        async for event in researcher.stream(
            question,
            principal=_principal(principal),
            filters=_filters(filters),
            limits=budget,
            history=list(history),
            use_cache=use_cache,
        ):
            yield event

    async def _in_thread(self, fn: Callable[..., T], *args: Any) -> T:
        return await asyncio.to_thread(fn, *args)


def _principal(value: Principal | str | None) -> Principal:
    if value is None:
        return Principal()
    if isinstance(value, str):
        return Principal(id=value)
    return value


def _filters(value: SearchFilters | Mapping[str, Any] | None) -> SearchFilters:
    if value is None:
        return SearchFilters()
    if isinstance(value, SearchFilters):
        return value
    try:
        return SearchFilters.model_validate(dict(value))
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(map(str, e['loc'])) or 'filters'}: {e['msg'].removeprefix('Value error, ')}"
            for e in exc.errors()
        )
        raise InvalidFilters(
            f"invalid filters: {problems} (allowed: {', '.join(SearchFilters.model_fields)})"
        ) from None
