"""Reading the ledger back: recent runs, one run's trace and calls, and spend aggregated by node,
model, day or principal. What `quarry runs`, `quarry spend` and `Assistant.runs()/spend()` show."""

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from quarry.agent.errors import QuarryError
from quarry.corpus.db import Database
from quarry.corpus.filters import Principal

SpendKey = Literal["node", "model", "day", "principal"]
SPEND_KEYS: tuple[SpendKey, ...] = ("node", "model", "day", "principal")
_GROUP_SQL: dict[SpendKey, str] = {
    "node": "s.node",
    "model": "s.model",
    "day": "to_char(date_trunc('day', s.at AT TIME ZONE 'UTC'), 'YYYY-MM-DD')",
    "principal": "r.principal_id",
}


class RunNotFound(QuarryError):
    """No run has the given id (or prefix)."""


class RunForbidden(QuarryError):
    """The run belongs to another principal: its question and evidence are theirs."""


@dataclass(frozen=True)
class RunSummary:
    id: str
    started_at: datetime
    principal_id: str
    status: str
    stopped_by: str | None
    hops: int
    usd: float
    tokens: int
    elapsed_ms: float
    question: str
    cache_hit: bool = False
    saved_usd: float = 0.0


@dataclass(frozen=True)
class CallRow:
    node: str
    model: str
    kind: str
    input_tokens: int
    output_tokens: int
    usd: float
    ms: float
    outcome: str
    attempts: int
    estimated: bool


@dataclass(frozen=True)
class TraceHit:
    document_id: str
    chunk_id: int
    title: str
    score: float
    ranks: dict[str, int]
    """Retriever → rank (1 = best) for each retriever that found it."""


@dataclass(frozen=True)
class TraceSpan:
    node: str
    start_ms: float
    ms: float
    outcome: str
    detail: str
    tokens: int
    usd: float
    inputs: str = ""
    hits: tuple[TraceHit, ...] = ()


@dataclass(frozen=True)
class RunRecord:
    summary: RunSummary
    limits: dict
    corpus_version: int
    answer: dict | None
    trace: tuple[TraceSpan, ...]
    calls: tuple[CallRow, ...]


@dataclass(frozen=True)
class SpendRow:
    key: str
    runs: int
    calls: int
    input_tokens: int
    output_tokens: int
    usd: float


_SUMMARY_COLUMNS = (
    "id, started_at, principal_id, status, stopped_by, coalesce(hops, 0) AS hops, coalesce(usd, 0) AS usd,"
    " coalesce(input_tokens, 0) + coalesce(output_tokens, 0) AS tokens, coalesce(elapsed_ms, 0) AS elapsed_ms, question,"
    " cache_hit, saved_usd"
)


def recent_runs(db: Database, *, limit: int = 20, principal_id: str | None = None) -> list[RunSummary]:
    with db.transaction() as conn:
        rows = conn.execute(
            f"SELECT {_SUMMARY_COLUMNS} FROM runs WHERE %(principal)s::text IS NULL OR principal_id = %(principal)s"
            " ORDER BY started_at DESC LIMIT %(limit)s",
            {"principal": principal_id, "limit": limit},
        ).fetchall()
    return [_summary(row) for row in rows]


def load_run(db: Database, run_id: str, *, viewer: Principal | None = None) -> RunRecord:
    """One run by id, or by a unique prefix of at least 6 characters (as `quarry runs` lists them).

    With a `viewer`, only their own runs are shown, and evidence from documents they can no longer
    read (access changed since) is redacted; without one, this is the operator's view."""
    text = run_id.strip().lower()
    if len(text) < 6 or any(c not in "0123456789abcdef-" for c in text):
        raise RunNotFound(f"'{run_id}' is not a run id (a UUID, or at least its first 6 characters)")
    where, value = ("id = %s", text) if _is_uuid(text) else ("id::text LIKE %s", text + "%")
    with db.transaction() as conn:
        rows = conn.execute(
            f"SELECT {_SUMMARY_COLUMNS}, limits, corpus_version, result, trace FROM runs WHERE {where} LIMIT 2",
            (value,),
        ).fetchall()
        if not rows:
            raise RunNotFound(f"no run {run_id} in this corpus (see `quarry runs` for recent ones)")
        if len(rows) > 1:
            raise RunNotFound(f"'{run_id}' matches more than one run; give more of its id")
        row = rows[0]
        if viewer is not None and row["principal_id"] != viewer.id:
            raise RunForbidden(f"run {run_id} belongs to another principal; {viewer.id} may only see their own runs")
        calls = conn.execute(
            "SELECT node, model, kind, input_tokens, output_tokens, usd, ms, outcome, attempts, estimated FROM spend"
            " WHERE run_id = %s ORDER BY id",
            (row["id"],),
        ).fetchall()
        stored = row["trace"] or []
        answer = row["result"]
        if viewer is not None:
            unreadable = _unreadable(conn, _documents_used(stored, answer), viewer)
            stored, answer = _redact_trace(stored, unreadable), _redact_answer(answer, unreadable)
    trace = tuple(_span(s) for s in stored)
    row = {**row, "result": answer}
    return RunRecord(
        _summary(row), row["limits"], row["corpus_version"], row["result"], trace, tuple(CallRow(**c) for c in calls)
    )


def spend_by(db: Database, by: SpendKey, *, since: datetime | None = None) -> list[SpendRow]:
    """Spend rows grouped by `by`, dearest first (days in order); `since` bounds the calls' time."""
    group = _GROUP_SQL[by]
    order = group if by == "day" else f"sum(s.usd) DESC, {group}"
    with db.transaction() as conn:
        rows = conn.execute(
            f"SELECT {group} AS key, count(DISTINCT s.run_id) AS runs, count(*) AS calls,"
            " sum(s.input_tokens) AS input_tokens, sum(s.output_tokens) AS output_tokens, sum(s.usd) AS usd"
            " FROM spend s JOIN runs r ON r.id = s.run_id"
            " WHERE %(since)s::timestamptz IS NULL OR s.at >= %(since)s"
            f" GROUP BY {group} ORDER BY {order}",
            {"since": since},
        ).fetchall()
    return [
        SpendRow(str(r["key"]), r["runs"], r["calls"], r["input_tokens"], r["output_tokens"], r["usd"]) for r in rows
    ]


def saved_by_cache(db: Database, *, since: datetime | None = None) -> tuple[int, float]:
    """Runs served from the semantic cache, and the dollars their original runs cost."""
    with db.transaction() as conn:
        row = conn.execute(
            "SELECT count(*) AS hits, coalesce(sum(saved_usd), 0) AS saved FROM runs"
            " WHERE cache_hit AND (%(since)s::timestamptz IS NULL OR started_at >= %(since)s)",
            {"since": since},
        ).fetchone()
    return row["hits"], row["saved"]


def _summary(row: dict) -> RunSummary:
    return RunSummary(
        str(row["id"]),
        row["started_at"],
        row["principal_id"],
        row["status"],
        row["stopped_by"],
        row["hops"],
        row["usd"],
        row["tokens"],
        row["elapsed_ms"],
        row["question"],
        row["cache_hit"],
        row["saved_usd"],
    )


def _span(stored: dict) -> TraceSpan:
    hits = tuple(
        TraceHit(h["document_id"], h["chunk_id"], h["title"], h["score"], dict(h.get("ranks", {})))
        for h in stored.get("hits", [])
    )
    return TraceSpan(
        stored["node"],
        stored["start_ms"],
        stored["ms"],
        stored["outcome"],
        stored.get("detail", ""),
        stored.get("tokens", 0),
        stored.get("usd", 0.0),
        stored.get("inputs", ""),
        hits,
    )


REDACTED = "[restricted]"


def _documents_used(trace: list[dict], answer: dict | None) -> set[str]:
    found = {h["document_id"] for span in trace for h in span.get("hits", [])}
    found.update(c["document_id"] for c in (answer or {}).get("citations", []))
    return found


def _unreadable(conn, document_ids: set[str], viewer: Principal) -> set[str]:
    """Of `document_ids`, those the viewer may not read now (deleted ones included)."""
    if not document_ids:
        return set()
    readable = conn.execute(
        "SELECT id FROM documents WHERE id = ANY(%s) AND access && %s::text[]",
        (list(document_ids), list(viewer.groups)),
    ).fetchall()
    return document_ids - {r["id"] for r in readable}


def _redact_trace(trace: list[dict], unreadable: set[str]) -> list[dict]:
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


def _redact_answer(answer: dict | None, unreadable: set[str]) -> dict | None:
    """A run that drew on a document the viewer can no longer read has its answer withheld whole:
    its sentences restate that document, so hiding the citations alone would not hide what it said."""
    if not answer or not unreadable:
        return answer
    return {**answer, **{key: value for key, value in _DERIVED_TEXT.items() if key in answer}}


def _is_uuid(text: str) -> bool:
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return True
