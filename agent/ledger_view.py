"""The run ledger as its readers see it: recent runs, one run's trace and calls, and spend by node,
model, day or principal. What `quarry runs`, `quarry spend` and `Assistant.runs()/spend()` show.

The queries are the ledger store's (graph/budget/ledger.py); this module validates run ids, checks
who may see a run, and redacts what a viewer may no longer read (the documents store says which).
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from quarry.corpus.db import Database
from quarry.corpus.filters import Principal
from quarry.corpus.store import DocumentStore
from quarry.errors import RunForbidden, RunNotFound
from quarry.graph.budget.ledger import (
    SPEND_KEYS,
    CallRow,
    PostgresLedger,
    RunSummary,
    SpendKey,
    SpendRow,
)
from quarry.graph.trace import Span

__all__ = [
    "REDACTED",
    "SPEND_KEYS",
    "CallRow",
    "RunForbidden",
    "RunNotFound",
    "RunRecord",
    "RunSummary",
    "SpendKey",
    "SpendRow",
    "load_run",
    "recent_runs",
    "saved_by_cache",
    "spend_by",
]


@dataclass(frozen=True)
class RunRecord:
    summary: RunSummary
    limits: dict[str, Any]
    corpus_version: int
    answer: dict[str, Any] | None
    trace: tuple[Span, ...]
    """Read back with `Span.load` (redacted for a viewer who may no longer read their evidence)."""
    calls: tuple[CallRow, ...]


def recent_runs(db: Database, *, limit: int = 20, principal_id: str | None = None) -> list[RunSummary]:
    return PostgresLedger(db).recent_runs(limit=limit, principal_id=principal_id)


def load_run(db: Database, run_id: str, *, viewer: Principal | None = None) -> RunRecord:
    """One run by id, or by a unique prefix of at least 6 characters (as `quarry runs` lists them).

    With a `viewer`, only their own runs are shown, and evidence from documents they can no longer
    read (access changed since) is redacted; without one, this is the operator's view."""
    text = run_id.strip().lower()
    if len(text) < 6 or any(c not in "0123456789abcdef-" for c in text):
        raise RunNotFound(f"'{run_id}' is not a run id (a UUID, or at least its first 6 characters)")
    ledger = PostgresLedger(db)
    found = ledger.runs_matching(text)
    if not found:
        raise RunNotFound(f"no run {run_id} in this corpus (see `quarry runs` for recent ones)")
    if len(found) > 1:
        raise RunNotFound(f"'{run_id}' matches more than one run; give more of its id")
    run = found[0]
    if viewer is not None and run.summary.principal_id != viewer.id:
        raise RunForbidden(f"run {run_id} belongs to another principal; {viewer.id} may only see their own runs")
    calls = ledger.calls(run.summary.id)
    stored, answer = run.trace, run.result
    if viewer is not None:
        used = _documents_used(stored, answer)
        unreadable = used - DocumentStore(db).readable_documents(sorted(used), viewer.groups)
        stored, answer = _redact_trace(stored, unreadable), _redact_answer(answer, unreadable)
    trace = tuple(Span.load(s) for s in stored)
    return RunRecord(run.summary, run.limits, run.corpus_version, answer, trace, tuple(calls))


def spend_by(
    db: Database, by: SpendKey, *, since: datetime | None = None, principal_id: str | None = None
) -> list[SpendRow]:
    """Spend rows grouped by `by`, dearest first (days in order); `since` bounds the calls' time and
    `principal_id` (None: everyone, the operator's view) the runs."""
    return PostgresLedger(db).spend_by(by, since=since, principal_id=principal_id)


def saved_by_cache(db: Database, *, since: datetime | None = None) -> tuple[int, float]:
    """Runs served from the semantic cache, and the dollars their original runs cost."""
    record = PostgresLedger(db).cache_record(since=since)
    return record.hit_runs, record.saved_usd


REDACTED = "[restricted]"


def _documents_used(trace: list[dict[str, Any]], answer: dict[str, Any] | None) -> set[str]:
    found = {h["document_id"] for span in trace for h in span.get("hits", [])}
    found.update(c["document_id"] for c in (answer or {}).get("citations", []))
    return found


def _redact_trace(trace: list[dict[str, Any]], unreadable: set[str]) -> list[dict[str, Any]]:
    """Hits from unreadable documents are hidden, and so is every span's text (queries, details):
    later queries are written from earlier evidence and can restate it."""
    if not unreadable:
        return trace
    hidden = {"document_id": REDACTED, "chunk_id": -1, "title": REDACTED, "score": 0.0, "ranks": {}}
    return [
        {
            **span,
            "inputs": REDACTED if span.get("inputs") else "",
            "detail": REDACTED if span.get("detail") else "",
            "hits": [hidden if h["document_id"] in unreadable else h for h in span.get("hits", [])],
        }
        for span in trace
    ]


_DERIVED_TEXT = {
    "answer": REDACTED + " (drawn from documents this reader can no longer read)",
    "citations": [],
    "gaps": [],
    "unsupported_sentences": [],
    "evidence_sources": [],
    "stop_detail": "",
}


def _redact_answer(answer: dict[str, Any] | None, unreadable: set[str]) -> dict[str, Any] | None:
    """A run that drew on a document the viewer can no longer read has its answer withheld whole:
    its sentences restate that document, so hiding the citations alone would not hide what it said."""
    if not answer or not unreadable:
        return answer
    return {**answer, **{key: value for key, value in _DERIVED_TEXT.items() if key in answer}}
