"""The ledger: a row per run and a row per model or embedding call, in PostgreSQL.

Rows are written as they happen (a crash mid-run still leaves what was spent on record); the run
row is opened before the first node and closed by the runner with the outcome and the answer.
"""

import json
from dataclasses import asdict, dataclass
from typing import Literal, Protocol

from quarry.corpus.db import Database
from quarry.graph.budget.account import Accounts

CallKind = Literal["llm", "embedding"]
ABANDON_MARGIN_SECONDS = 300.0
"""How long past its deadline a run must still be 'running' before it is declared abandoned."""
Outcome = Literal["ok", "timeout", "unavailable", "refused"]


@dataclass(frozen=True)
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


@dataclass(frozen=True)
class RunOpened:
    run_id: str
    question: str
    principal_id: str
    principal_groups: tuple[str, ...]
    filters: dict
    limits: dict
    corpus_version: int


@dataclass(frozen=True)
class RunClosed:
    run_id: str
    status: Literal["complete", "partial", "failed"]
    stopped_by: str | None
    hops: int
    answer: str
    result: dict
    usd: float
    input_tokens: int
    output_tokens: int
    elapsed_ms: float
    trace: list
    cache_hit: bool = False
    saved_usd: float = 0.0


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
        Accounts(self.db).forfeit_abandoned()
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
