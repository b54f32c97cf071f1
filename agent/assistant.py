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
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, TypedDict, Unpack

from quarry.agent import lifecycle
from quarry.agent.chat_session import Session
from quarry.agent.components import Components
from quarry.agent.engine_loop import EngineLoop
from quarry.agent.inputs import principal_of, search_filters
from quarry.agent.ledger_view import RunRecord, RunSummary, SpendKey, SpendRow, load_run, recent_runs, spend_by
from quarry.agent.models import Models
from quarry.agent.passages import CitedPassage, open_citation
from quarry.agent.settings import Settings, load_settings, setting_key
from quarry.corpus.db import Database
from quarry.corpus.embed import LocalEmbeddings
from quarry.corpus.filters import Principal, SearchFilters
from quarry.corpus.ingest import IngestEvent, IngestReport
from quarry.errors import InvalidPrincipal
from quarry.graph.answer import Answer, Citation
from quarry.graph.budget.limits import Limits
from quarry.graph.engine import ResearchRequest
from quarry.graph.events import RunEvent
from quarry.graph.telemetry import RunExporter


class AskOptions(TypedDict, total=False):
    """The keyword options of `ask`, `aask`, `stream` and `astream`."""

    budget: Limits | None
    """The run's limits; None: research.budget in config."""
    filters: SearchFilters | Mapping[str, Any] | None
    """Metadata filters, as `SearchFilters` or a dict of its fields; checked before the run starts."""
    principal: Principal | str | None
    """Who asks (an id, or a `Principal` with groups); None: the anonymous public reader."""
    use_cache: bool
    """False: research afresh; nothing served from or stored in the semantic cache (default True)."""


class Assistant:
    def __init__(
        self,
        settings: Settings,
        *,
        environ: Mapping[str, str] | None = None,
        db: Database | None = None,
        embedder: LocalEmbeddings | None = None,
        models: Models | None = None,
        telemetry: RunExporter | None = None,
    ) -> None:
        """Components given here (a loaded embedding model to share, models, a telemetry exporter, an
        open database) are used instead of building them from `settings`, and left to the caller to close."""
        self.components = Components(settings, environ, db=db, embedder=embedder, models=models, telemetry=telemetry)
        self._engine = EngineLoop(self.components)
        self._closed = False

    @classmethod
    def from_config(
        cls, path: str | Path | None = None, *, environ: Mapping[str, str] | None = None, **overrides: Any
    ) -> "Assistant":
        """Settings from `path` (default: $QUARRY_CONFIG or ./config.yaml), the environment, then
        `overrides`: a section as a dict (`llm={"provider": "offline"}`), a key as
        `section__key=value`, or a short name: data_dir, database_url, provider."""
        dotted = {setting_key(key): value for key, value in overrides.items()}
        settings = load_settings(
            Path(path) if path is not None else None,
            overrides=dotted,
            environ=dict(environ) if environ is not None else None,
        )
        return cls(settings, environ=environ)

    @property
    def settings(self) -> Settings:
        return self.components.settings

    # -- questions --------------------------------------------------------------------------------

    def ask(self, question: str, **options: Unpack[AskOptions]) -> Answer:
        """Research `question` within `budget` (default: research.budget in config) and return the
        answer with citations; a limit makes it partial, never an exception. A question answered
        before for the same reader scope and corpus version is served from the semantic cache
        (`answer.cache_hit`) unless `use_cache=False`. Options: see `AskOptions`."""
        return self._engine.ask(_request(question, options))

    async def aask(self, question: str, **options: Unpack[AskOptions]) -> Answer:
        """`ask` for async code; the run stays on the Assistant's own loop."""
        return await self._engine.aask(_request(question, options))

    def stream(self, question: str, **options: Unpack[AskOptions]) -> Iterator[RunEvent]:
        """`astream` for synchronous code."""
        return self._engine.stream(_request(question, options, stream_text=True))

    def astream(self, question: str, **options: Unpack[AskOptions]) -> AsyncIterator[RunEvent]:
        """The run's events as they happen (graph.events): NodeStarted, HitsFound, TokensSpent,
        TextDelta (a streaming model's draft as it is written), DraftReady (the draft after citation
        checks), NodeFinished …, and last the FinalAnswer (the verified answer). Closing the iterator early
        (`aclose()`) cancels the run; it is recorded as cancelled."""
        return self._engine.astream(_request(question, options, stream_text=True))

    def chat(
        self,
        *,
        principal: Principal | str | None = None,
        budget: Limits | None = None,
        session_budget: Limits | None = None,
        session_id: str | None = None,
    ) -> Session:
        """A new conversation, or the one with `session_id` (resumed from PostgreSQL). `budget` caps
        each turn; `session_budget` (default: research.session_budget) caps the whole conversation.
        A session resumes only for the principal (id and groups) that started it: `principal` is who
        asks (None: the anonymous public reader), never taken from the session."""
        store = self.components.sessions
        if session_id is not None:
            record = store.load(session_id, principal_of(principal))
        else:
            record = store.create(principal_of(principal), session_budget or self.settings.research.session_budget)
        return Session(
            record, engine=self._engine, sessions=store, per_question=budget or self.settings.research.budget
        )

    def warm_up(self, principal: Principal | str | None = None) -> float:
        """Open the database and load the model and the indexes `principal` searches now, rather than
        before the first run (which does it anyway, before its clock starts); returns the seconds taken."""
        return self.components.warm_up(principal_of(principal))

    # -- corpus and ledger ------------------------------------------------------------------------

    def ingest(
        self,
        *paths: str | Path,
        defaults: Mapping[str, Any] | None = None,
        on_progress: Callable[[IngestEvent], None] | None = None,
        prune: bool = False,
        force: bool = False,
        overrides: Mapping[str, Any] | None = None,
        pdf_password: str | None = None,
        encoding: str | None = None,
    ) -> IngestReport:
        """What `quarry ingest PATH...` does: files or folders (Markdown, text, JSONL, PDF, HTML, Word),
        with metadata defaults for fields a document leaves out and `overrides` (title, published_at)
        that win over what it says. Refusals are in the report, each naming the document and field;
        stored documents from under `paths` whose file is gone are in `report.vanished`, and deleted
        with `prune`. `force` lets a document take an id another source holds."""
        from quarry.corpus.documents import ReadOptions
        from quarry.corpus.loaders import load_paths

        roots = [Path(p) for p in paths]
        loaded = load_paths(
            roots,
            defaults=dict(defaults or {}),
            max_bytes=self.settings.ingest.max_document_bytes,
            max_asset_bytes=self.settings.ingest.max_asset_bytes,
            options=ReadOptions(
                overrides=dict(overrides or {}),
                pdf_password=pdf_password,
                encoding=encoding,
                max_pdf_pages=self.settings.ingest.max_pdf_pages,
                max_file_bytes=self.settings.ingest.max_file_bytes,
            ),
        )
        return self.components.ingestor.ingest_documents(
            loaded, progress=on_progress, roots=roots, prune=prune, force=force
        )

    def delete(
        self,
        *document_ids: str,
        sources: Sequence[str | Path] = (),
        filters: SearchFilters | Mapping[str, Any] | None = None,
        dry_run: bool = False,
    ) -> lifecycle.Deletion:
        """What `quarry rm` does: delete the documents every given selector admits (these ids, an
        origin file or folder or a declared source, metadata filters), with their chunks, graph
        evidence, BM25 entries (the index rebuilds on the new corpus version) and every cached answer
        citing them; their image blobs go at the next gc. Nothing is deleted when an id names no
        document (DocumentNotFound) or nothing is named (UsageError)."""
        store = self.components.store
        chosen = lifecycle.select(
            store, ids=document_ids, sources=sources, filters=search_filters(filters) if filters else None
        )
        if dry_run:
            return lifecycle.Deletion(documents=tuple(chosen), cache_entries=0, dry_run=True)
        return lifecycle.delete(store, self.components.cache, chosen)

    def open_citation(
        self, citation: Citation, *, principal: Principal | str | None = None, context_chars: int = 400
    ) -> CitedPassage:
        """The cited passage inside its document, with `context_chars` either side, if `principal` may read it."""
        return open_citation(self.components.store, citation, principal_of(principal), context_chars=context_chars)

    # The ledger holds everyone's questions. Each call shows one principal's own (default: the anonymous
    # reader `ask` uses); `operator=True` is the operator's view of all of them, as `quarry runs/spend` show.

    def runs(
        self, *, limit: int = 20, principal: Principal | str | None = None, operator: bool = False
    ) -> list[RunSummary]:
        """Recent runs of `principal` (default: the anonymous reader); `operator=True`: everyone's."""
        _one_view(principal, operator)
        scope = None if operator else principal_of(principal).id
        return recent_runs(self.components.db, limit=limit, principal_id=scope)

    def run(self, run_id: str, *, principal: Principal | str | None = None, operator: bool = False) -> RunRecord:
        """One run's trace and calls, if it is `principal`'s own (RunForbidden otherwise), with evidence
        they can no longer read redacted; `operator=True`: any run, whole."""
        _one_view(principal, operator)
        return load_run(self.components.db, run_id, viewer=None if operator else principal_of(principal))

    def spend(
        self,
        by: SpendKey = "node",
        *,
        since: datetime | None = None,
        principal: Principal | str | None = None,
        operator: bool = False,
    ) -> list[SpendRow]:
        """Tokens and dollars of `principal`'s runs (default: the anonymous reader) by node, model, day or
        principal; `operator=True`: everyone's."""
        _one_view(principal, operator)
        return spend_by(
            self.components.db, by, since=since, principal_id=None if operator else principal_of(principal).id
        )

    # -- lifecycle --------------------------------------------------------------------------------

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._engine.close()
        self.components.close()

    def __enter__(self) -> "Assistant":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    async def __aenter__(self) -> "Assistant":
        return self

    async def __aexit__(self, *exc: object) -> None:
        await asyncio.to_thread(self.close)


def _one_view(principal: object, operator: bool) -> None:
    if operator and principal is not None:
        raise InvalidPrincipal("give a principal (their own view) or operator=True (everyone's), not both")


def _request(question: str, options: AskOptions, *, stream_text: bool = False) -> ResearchRequest:
    return ResearchRequest(
        stream_text=stream_text,
        question=question,
        budget=options.get("budget"),
        filters=search_filters(options.get("filters")),
        principal=principal_of(options.get("principal")),
        use_cache=options.get("use_cache", True),
    )
