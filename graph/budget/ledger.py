"""The ledger: a row per run and a row per model or embedding call, in PostgreSQL.

Rows are written as they happen (a crash mid-run still leaves what was spent on record); the run
row is opened before the first node and closed by the runner with the outcome and the answer.
`PostgresLedger` is the ledger store: it holds all of the runs and spend tables' SQL, the reads
behind `quarry runs`, `quarry spend` and `quarry cache stats` included (agent/ledger_view.py
presents them and redacts them per viewer).
"""

import json
import uuid
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any, Literal, Protocol

from quarry.corpus.db import Database
from quarry.graph.budget.account import Accounts

CallKind = Literal["llm", "embedding"]
ABANDON_MARGIN_SECONDS = 300.0
"""How long past its deadline a run must still be 'running' before it is declared abandoned."""
Outcome = Literal["ok", "timeout", "unavailable", "refused"]
TABLES = ("runs", "spend")
SpendKey = Literal["node", "model", "day", "principal"]
SPEND_KEYS: tuple[SpendKey, ...] = ("node", "model", "day", "principal")


@dataclass(frozen=True, kw_only=True, slots=True)
class CallRecord:
    run_id: str
    node: str
    kind: CallKind
    model: str
    input_tokens: int
    output_tokens: int
    cache_write_tokens: int
    cache_read_tokens: int
    usd: float
    ms: float
    outcome: Outcome
    attempts: int = 1
    estimated: bool = False
    """usd is the reservation, not reported usage: the call timed out and may still be billed."""


@dataclass(frozen=True, kw_only=True, slots=True)
class RunOpened:
    run_id: str
    question: str
    principal_id: str
    principal_groups: tuple[str, ...]
    filters: dict[str, Any]
    limits: dict[str, Any]
    corpus_version: int


@dataclass(frozen=True, kw_only=True, slots=True)
class RunClosed:
    run_id: str
    status: Literal["complete", "partial", "failed"]
    stopped_by: str | None
    hops: int
    answer: str
    result: dict[str, Any]
    """`Answer.dump()` (an AnswerRecord; {} for a failed run); read back with `Answer.load`."""
    usd: float
    input_tokens: int
    output_tokens: int
    elapsed_ms: float
    trace: list[dict[str, Any]]
    """`Span.dump()` of each span (SpanRecords); read back with `Span.load`."""
    cache_hit: bool = False
    saved_usd: float = 0.0


@dataclass(frozen=True, kw_only=True, slots=True)
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


@dataclass(frozen=True, kw_only=True, slots=True)
class StoredRun:
    """A run's row as stored: its summary, and the limits, answer JSON and trace it closed with."""

    summary: RunSummary
    limits: dict[str, Any]
    corpus_version: int
    result: dict[str, Any] | None
    trace: list[dict[str, Any]]


@dataclass(frozen=True, kw_only=True, slots=True)
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


@dataclass(frozen=True, kw_only=True, slots=True)
class SpendRow:
    key: str
    runs: int
    calls: int
    input_tokens: int
    output_tokens: int
    usd: float


@dataclass(frozen=True, kw_only=True, slots=True)
class CacheRecord:
    """What the ledger says the semantic cache did: runs, those served from it, and the dollars saved."""

    runs: int
    hit_runs: int
    saved_usd: float


class Ledger(Protocol):
    def open_run(self, run: RunOpened) -> None: ...
    def record(self, call: CallRecord) -> None: ...
    def close_run(self, run: RunClosed) -> None: ...


class PostgresLedger:
    def __init__(self, db: Database) -> None:
        self.db = db

    def open_run(self, run: RunOpened) -> None:
        with self.db.transaction() as conn:
            conn.execute(
                "INSERT INTO runs (id, question, principal_id, principal_groups, filters, limits, corpus_version)"
                " VALUES (%(run_id)s, %(question)s, %(principal_id)s, %(principal_groups)s, %(filters)s::jsonb,"
                " %(limits)s::jsonb, %(corpus_version)s)",
                {
                    **asdict(run),
                    "principal_groups": list(run.principal_groups),
                    "filters": json.dumps(run.filters, default=str),
                    "limits": json.dumps(run.limits),
                },
            )

    def record(self, call: CallRecord) -> None:
        with self.db.transaction() as conn:
            conn.execute(
                "INSERT INTO spend (run_id, node, kind, model, input_tokens, output_tokens, cache_write_tokens,"
                " cache_read_tokens, usd, estimated, ms, attempts, outcome) VALUES (%(run_id)s, %(node)s, %(kind)s,"
                " %(model)s, %(input_tokens)s, %(output_tokens)s, %(cache_write_tokens)s, %(cache_read_tokens)s,"
                " %(usd)s, %(estimated)s, %(ms)s, %(attempts)s, %(outcome)s)",
                asdict(call),
            )

    def abandon_stale(self, *, margin_seconds: float = ABANDON_MARGIN_SECONDS) -> int:
        """Mark runs still 'running' long past their own deadline as 'abandoned' (their process died);
        returns how many. Live runs never qualify: every run returns by max_seconds. Account holds such
        runs (or any finished run) left open are then forfeited: counted as spent, to stay safe."""
        with self.db.transaction() as conn:
            abandoned = conn.execute(
                "UPDATE runs SET status = 'abandoned', stopped_by = 'error', finished_at = now()"
                " WHERE status = 'running' AND started_at < now()"
                " - make_interval(secs => coalesce((limits->>'max_seconds')::float8, 0) + %s)",
                (margin_seconds,),
            ).rowcount
        Accounts(self.db).forfeit_runs(_FINISHED_RUNS)
        return abandoned

    def close_run(self, run: RunClosed) -> None:
        with self.db.transaction() as conn:
            conn.execute(
                "UPDATE runs SET finished_at = now(), status = %(status)s, stopped_by = %(stopped_by)s, hops = %(hops)s,"
                " answer = %(answer)s, result = %(result)s::jsonb, usd = %(usd)s, input_tokens = %(input_tokens)s,"
                " output_tokens = %(output_tokens)s, elapsed_ms = %(elapsed_ms)s, trace = %(trace)s::jsonb,"
                " cache_hit = %(cache_hit)s, saved_usd = %(saved_usd)s"
                " WHERE id = %(run_id)s",
                {
                    **asdict(run),
                    "result": json.dumps(run.result, default=str),
                    "trace": json.dumps(run.trace, default=str),
                },
            )

    # Reading back: what `quarry runs`, `quarry spend` and `quarry cache stats` show.

    def recent_runs(self, *, limit: int = 20, principal_id: str | None = None) -> list[RunSummary]:
        with self.db.transaction() as conn:
            rows = conn.execute(
                f"SELECT {_SUMMARY_COLUMNS} FROM runs WHERE %(principal)s::text IS NULL OR principal_id = %(principal)s"
                " ORDER BY started_at DESC LIMIT %(limit)s",
                {"principal": principal_id, "limit": limit},
            ).fetchall()
        return [_summary(row) for row in rows]

    def runs_matching(self, run_id: str) -> list[StoredRun]:
        """The run whose id is `run_id` (a UUID), or the runs whose id starts with it; at most two."""
        where, value = ("id = %s", run_id) if _is_uuid(run_id) else ("id::text LIKE %s", run_id + "%")
        with self.db.transaction() as conn:
            rows = conn.execute(
                f"SELECT {_SUMMARY_COLUMNS}, limits, corpus_version, result, trace FROM runs WHERE {where} LIMIT 2",
                (value,),
            ).fetchall()
        return [
            StoredRun(
                summary=_summary(row),
                limits=row["limits"],
                corpus_version=row["corpus_version"],
                result=row["result"],
                trace=row["trace"] or [],
            )
            for row in rows
        ]

    def calls(self, run_id: str) -> list[CallRow]:
        """The run's model and embedding calls, in the order they were recorded."""
        with self.db.transaction() as conn:
            rows = conn.execute(
                "SELECT node, model, kind, input_tokens, output_tokens, usd, ms, outcome, attempts, estimated FROM spend"
                " WHERE run_id = %s ORDER BY id",
                (run_id,),
            ).fetchall()
        return [CallRow(**row) for row in rows]

    def spend_by(
        self, by: SpendKey, *, since: datetime | None = None, principal_id: str | None = None
    ) -> list[SpendRow]:
        """Spend rows grouped by `by`, dearest first (days in order); `since` bounds the calls' time,
        `principal_id` (None: everyone's) the runs."""
        group = _GROUP_SQL[by]
        order = group if by == "day" else f"sum(s.usd) DESC, {group}"
        with self.db.transaction() as conn:
            rows = conn.execute(
                f"SELECT {group} AS key, count(DISTINCT s.run_id) AS runs, count(*) AS calls,"
                " sum(s.input_tokens) AS input_tokens, sum(s.output_tokens) AS output_tokens, sum(s.usd) AS usd"
                " FROM spend s JOIN runs r ON r.id = s.run_id"
                " WHERE (%(since)s::timestamptz IS NULL OR s.at >= %(since)s)"
                " AND (%(principal)s::text IS NULL OR r.principal_id = %(principal)s)"
                f" GROUP BY {group} ORDER BY {order}",
                {"since": since, "principal": principal_id},
            ).fetchall()
        return [SpendRow(**{**row, "key": str(row["key"])}) for row in rows]

    def cache_record(self, *, since: datetime | None = None) -> CacheRecord:
        """Runs (started since `since`), how many the semantic cache served, and what their original runs cost."""
        with self.db.transaction() as conn:
            row = conn.execute(
                "SELECT count(*) AS runs, count(*) FILTER (WHERE cache_hit) AS hit_runs,"
                " coalesce(sum(saved_usd) FILTER (WHERE cache_hit), 0) AS saved_usd FROM runs"
                " WHERE %(since)s::timestamptz IS NULL OR started_at >= %(since)s",
                {"since": since},
            ).fetchone()
        assert row is not None  # an aggregate without GROUP BY returns one row
        return CacheRecord(**row)


_FINISHED_RUNS = "SELECT id FROM runs WHERE status <> 'running'"
"""Runs that can no longer settle an account hold (finished, failed or abandoned): the accounts store
forfeits their holds, given this subquery so that only this module names the runs table."""
_GROUP_SQL: dict[SpendKey, str] = {
    "node": "s.node",
    "model": "s.model",
    "day": "to_char(date_trunc('day', s.at AT TIME ZONE 'UTC'), 'YYYY-MM-DD')",
    "principal": "r.principal_id",
}
_SUMMARY_COLUMNS = (
    "id, started_at, principal_id, status, stopped_by, coalesce(hops, 0) AS hops, coalesce(usd, 0) AS usd,"
    " coalesce(input_tokens, 0) + coalesce(output_tokens, 0) AS tokens, coalesce(elapsed_ms, 0) AS elapsed_ms, question,"
    " cache_hit, saved_usd"
)


def _summary(row: dict[str, Any]) -> RunSummary:
    return RunSummary(
        id=str(row["id"]),
        started_at=row["started_at"],
        principal_id=row["principal_id"],
        status=row["status"],
        stopped_by=row["stopped_by"],
        hops=row["hops"],
        usd=row["usd"],
        tokens=row["tokens"],
        elapsed_ms=row["elapsed_ms"],
        question=row["question"],
        cache_hit=row["cache_hit"],
        saved_usd=row["saved_usd"],
    )


def _is_uuid(text: str) -> bool:
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return True
