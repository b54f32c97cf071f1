"""The store of chat sessions (tables `sessions`, `session_turns`, `session_holds`): created, resumed
by id (by its owner only), and extended one turn at a time. Before each turn the engine holds the
turn's limits on the session (its budget less its turns and the holds of turns in flight, under the
session row's lock: processes sharing a session share its budget) and reads its history; after it,
the turn is appended and its hold dropped, so every front door keeps sessions alike."""

import json
import uuid
from dataclasses import dataclass, field
from datetime import datetime

from quarry.corpus.db import Database, RowConnection, one_row
from quarry.corpus.filters import Principal
from quarry.errors import SessionNotFound
from quarry.graph.answer import Answer, Citation
from quarry.graph.budget.limits import Limits
from quarry.graph.budget.session_budget import SessionUsage, turn_limits
from quarry.tools.llm.base import Turn

TABLES = ("sessions", "session_turns", "session_holds")


@dataclass(frozen=True, kw_only=True, slots=True)
class TurnRecord:
    number: int
    asked: str
    """As typed."""
    question: str
    """As researched (a follow-up resolved against the earlier turns)."""
    run_id: str | None
    answer: Answer
    """Stored as its AnswerRecord (`Answer.dump()`), read back with `Answer.load()`."""
    usage: SessionUsage

    @property
    def turn(self) -> Turn:
        return Turn(self.question, self.answer.text)

    @property
    def citations(self) -> tuple[Citation, ...]:
        return self.answer.citations


@dataclass(frozen=True, kw_only=True, slots=True)
class SessionRecord:
    id: str
    principal: Principal
    budget: Limits
    created_at: datetime
    turns: tuple[TurnRecord, ...]
    held: SessionUsage = field(default_factory=SessionUsage)
    """What turns in flight (in any process) hold on the session's budget."""

    @property
    def used(self) -> SessionUsage:
        total = SessionUsage()
        for turn in self.turns:
            total = total + turn.usage
        return total


@dataclass(frozen=True, kw_only=True, slots=True)
class SessionSummary:
    id: str
    created_at: datetime
    updated_at: datetime
    turns: int
    usd: float
    first_question: str
    """What the session began with ("" before its first turn)."""


@dataclass(frozen=True, kw_only=True, slots=True)
class TurnTicket:
    """A turn allowed to research: the session as it stood, the turn's limits and its hold's id."""

    record: SessionRecord
    limits: Limits
    hold: int


class SessionStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    def create(self, principal: Principal, budget: Limits) -> SessionRecord:
        session_id = str(uuid.uuid4())
        with self.db.transaction() as conn:
            row = one_row(
                conn.execute(
                    "INSERT INTO sessions (id, principal_id, principal_groups, budget) VALUES (%s, %s, %s, %s::jsonb)"
                    " RETURNING created_at",
                    (session_id, principal.id, list(principal.groups), json.dumps(budget.model_dump())),
                )
            )
        return SessionRecord(id=session_id, principal=principal, budget=budget, created_at=row["created_at"], turns=())

    def load(self, session_id: str, principal: Principal) -> SessionRecord:
        """The session and its turns, for its owner only: the same principal id with the same groups.
        A session that is another principal's is refused exactly like one that does not exist, so the
        error tells a stranger nothing (not whether it exists, not whose it is)."""
        with self.db.transaction() as conn:
            return _read(conn, session_id, principal, lock=False)

    def list(self, principal_id: str, *, limit: int = 50) -> list[SessionSummary]:
        """A principal's sessions, most recently used first."""
        with self.db.transaction() as conn:
            rows = conn.execute(
                "SELECT s.id, s.created_at, s.updated_at, count(t.turn) AS turns, coalesce(sum(t.usd), 0) AS usd,"
                " (SELECT asked FROM session_turns f WHERE f.session_id = s.id ORDER BY turn LIMIT 1) AS first_question"
                " FROM sessions s LEFT JOIN session_turns t ON t.session_id = s.id"
                " WHERE s.principal_id = %s GROUP BY s.id ORDER BY s.updated_at DESC LIMIT %s",
                (principal_id, limit),
            ).fetchall()
        return [
            SessionSummary(**{**row, "id": str(row["id"]), "first_question": row["first_question"] or ""})
            for row in rows
        ]

    def begin_turn(self, session_id: str, principal: Principal, per_question: Limits) -> TurnTicket:
        """Hold the next turn's limits on the session (SessionBudgetSpent when nothing is left). Under the
        session row's lock, so two processes resuming one session never both get what is left."""
        with self.db.transaction() as conn:
            record = _read(conn, session_id, principal, lock=True)
            limits = turn_limits(per_question, record.budget, record.used + record.held)
            hold = one_row(
                conn.execute(
                    "INSERT INTO session_holds (session_id, seconds, hops, tokens, usd) VALUES (%s, %s, %s, %s, %s)"
                    " RETURNING id",
                    (record.id, limits.max_seconds, limits.max_hops, limits.max_tokens, limits.max_usd),
                )
            )["id"]
        return TurnTicket(record=record, limits=limits, hold=hold)

    def release(self, hold: int) -> None:
        """The turn was not recorded (it failed or was cancelled): what it held goes back to the session."""
        with self.db.transaction() as conn:
            conn.execute("DELETE FROM session_holds WHERE id = %s", (hold,))

    def add_turn(self, session_id: str, asked: str, answer: Answer, hold: int | None = None) -> TurnRecord:
        """Record the turn; its hold (from `begin_turn`) is replaced by what it used, in one transaction."""
        total = answer.spend.total()
        usage = SessionUsage(seconds=answer.elapsed_s, hops=answer.hops, tokens=total.tokens, usd=total.usd)
        with self.db.transaction() as conn:
            # The row lock serialises two processes appending to one session: turn numbers stay dense.
            conn.execute("SELECT 1 FROM sessions WHERE id = %s FOR UPDATE", (session_id,))
            number = one_row(
                conn.execute(
                    "SELECT coalesce(max(turn), 0) + 1 AS n FROM session_turns WHERE session_id = %s",
                    (session_id,),
                )
            )["n"]
            conn.execute(
                "INSERT INTO session_turns (session_id, turn, asked, question, run_id, answer, usd, tokens, hops,"
                " elapsed_ms) VALUES (%s, %s, %s, %s, %s, %s::jsonb, %s, %s, %s, %s)",
                (
                    session_id,
                    number,
                    asked,
                    answer.question,
                    answer.run_id or None,
                    json.dumps(answer.dump()),
                    usage.usd,
                    usage.tokens,
                    usage.hops,
                    usage.seconds * 1000,
                ),
            )
            conn.execute("UPDATE sessions SET updated_at = now() WHERE id = %s", (session_id,))
            if hold is not None:
                conn.execute("DELETE FROM session_holds WHERE id = %s", (hold,))
        return TurnRecord(
            number=number,
            asked=asked,
            question=answer.question,
            run_id=answer.run_id or None,
            answer=answer,
            usage=usage,
        )


def _read(conn: RowConnection, session_id: str, principal: Principal, *, lock: bool) -> SessionRecord:
    # Only the principal's own sessions are matched, so a prefix tells a stranger nothing either.
    rows = conn.execute(
        "SELECT * FROM sessions WHERE id::text LIKE %s AND principal_id = %s ORDER BY created_at LIMIT 2"
        + (" FOR UPDATE" if lock else ""),
        (_session_key(session_id) + "%", principal.id),
    ).fetchall()
    if len(rows) > 1:
        raise SessionNotFound(f"'{session_id}' matches more than one of your sessions; give more of its id")
    row = rows[0] if rows else None
    if row is None or set(row["principal_groups"]) != set(principal.groups):
        raise SessionNotFound(
            f"no session {session_id} for principal '{principal.id}' with groups {','.join(principal.groups)}"
            " (a session resumes only as the principal, with the groups, that started it: pass them)"
        )
    key = str(row["id"])
    turns = conn.execute(
        "SELECT turn, asked, question, run_id, answer, usd, tokens, hops, elapsed_ms FROM session_turns"
        " WHERE session_id = %s ORDER BY turn",
        (key,),
    ).fetchall()
    held = one_row(
        conn.execute(
            "SELECT coalesce(sum(seconds), 0) AS seconds, coalesce(sum(hops), 0) AS hops,"
            " coalesce(sum(tokens), 0) AS tokens, coalesce(sum(usd), 0) AS usd FROM session_holds"
            " WHERE session_id = %s",
            (key,),
        )
    )
    return SessionRecord(
        id=key,
        principal=Principal(id=row["principal_id"], groups=tuple(row["principal_groups"])),
        budget=Limits.model_validate(row["budget"]),
        created_at=row["created_at"],
        turns=tuple(
            TurnRecord(
                number=t["turn"],
                asked=t["asked"],
                question=t["question"],
                run_id=str(t["run_id"]) if t["run_id"] else None,
                answer=Answer.load(t["answer"]),
                usage=SessionUsage(seconds=t["elapsed_ms"] / 1000, hops=t["hops"], tokens=t["tokens"], usd=t["usd"]),
            )
            for t in turns
        ),
        held=SessionUsage(
            seconds=float(held["seconds"]), hops=int(held["hops"]), tokens=int(held["tokens"]), usd=float(held["usd"])
        ),
    )


def _session_key(session_id: str) -> str:
    """A session id, or a unique prefix of at least 6 characters (as `quarry runs` takes run ids)."""
    text = session_id.strip().lower() if isinstance(session_id, str) else ""
    if len(text) < 6 or any(c not in "0123456789abcdef-" for c in text):
        raise SessionNotFound(f"'{session_id}' is not a session id (a UUID, or at least its first 6 characters)")
    return text
