"""Chat sessions in PostgreSQL: created, resumed by id, and extended one turn at a time."""

import json
import uuid
from dataclasses import dataclass
from datetime import datetime

from quarry.agent.errors import QuarryError
from quarry.corpus.db import Database
from quarry.corpus.filters import Principal
from quarry.graph.answer import Answer, Citation
from quarry.graph.budget.limits import Limits
from quarry.graph.budget.session import SessionUsage
from quarry.tools.llm.base import Turn


class SessionNotFound(QuarryError):
    """No session has the given id (or it is not a session id at all)."""


class SessionForbidden(QuarryError):
    """The session belongs to another principal."""


@dataclass(frozen=True)
class TurnRecord:
    number: int
    asked: str
    """As typed."""
    question: str
    """As researched (a follow-up resolved against the earlier turns)."""
    run_id: str | None
    answer: dict
    """`Answer.to_json()` of the turn's answer."""
    usage: SessionUsage

    @property
    def turn(self) -> Turn:
        return Turn(self.question, self.answer.get("answer", ""))

    @property
    def citations(self) -> tuple[Citation, ...]:
        return tuple(Citation.from_json(c) for c in self.answer.get("citations", []))


@dataclass(frozen=True)
class SessionRecord:
    id: str
    principal: Principal
    budget: Limits
    created_at: datetime
    turns: tuple[TurnRecord, ...]

    @property
    def used(self) -> SessionUsage:
        total = SessionUsage()
        for turn in self.turns:
            total = total + turn.usage
        return total


class SessionStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    def create(self, principal: Principal, budget: Limits) -> SessionRecord:
        session_id = str(uuid.uuid4())
        with self.db.transaction() as conn:
            row = conn.execute(
                "INSERT INTO sessions (id, principal_id, principal_groups, budget) VALUES (%s, %s, %s, %s::jsonb)"
                " RETURNING created_at",
                (session_id, principal.id, list(principal.groups), json.dumps(budget.model_dump())),
            ).fetchone()
        return SessionRecord(session_id, principal, budget, row["created_at"], ())

    def load(self, session_id: str, principal: Principal | None = None) -> SessionRecord:
        """The session and its turns; `principal`, when given, must be the session's owner."""
        try:
            key = str(uuid.UUID(session_id))
        except (ValueError, AttributeError, TypeError):
            raise SessionNotFound(f"'{session_id}' is not a session id (expected a UUID)") from None
        with self.db.transaction() as conn:
            row = conn.execute("SELECT * FROM sessions WHERE id = %s", (key,)).fetchone()
            if row is None:
                raise SessionNotFound(f"no session {key} in this corpus")
            turns = conn.execute(
                "SELECT turn, asked, question, run_id, answer, usd, tokens, hops, elapsed_ms FROM session_turns"
                " WHERE session_id = %s ORDER BY turn",
                (key,),
            ).fetchall()
        owner = Principal(id=row["principal_id"], groups=tuple(row["principal_groups"]))
        if principal is not None and (principal.id != owner.id or set(principal.groups) != set(owner.groups)):
            raise SessionForbidden(
                f"session {key} belongs to principal '{owner.id}' with groups {','.join(owner.groups)}; "
                f"'{principal.id}' cannot resume it"
            )
        return SessionRecord(
            key,
            owner,
            Limits.model_validate(row["budget"]),
            row["created_at"],
            tuple(
                TurnRecord(
                    t["turn"],
                    t["asked"],
                    t["question"],
                    str(t["run_id"]) if t["run_id"] else None,
                    t["answer"],
                    SessionUsage(t["elapsed_ms"] / 1000, t["hops"], t["tokens"], t["usd"]),
                )
                for t in turns
            ),
        )

    def add_turn(self, session_id: str, asked: str, answer: Answer) -> TurnRecord:
        total = answer.spend.total()
        usage = SessionUsage(answer.elapsed_s, answer.hops, total.tokens, total.usd)
        payload = answer.to_json()
        with self.db.transaction() as conn:
            # The row lock serialises two processes appending to one session: turn numbers stay dense.
            conn.execute("SELECT 1 FROM sessions WHERE id = %s FOR UPDATE", (session_id,))
            number = conn.execute(
                "SELECT coalesce(max(turn), 0) + 1 AS n FROM session_turns WHERE session_id = %s",
                (session_id,),
            ).fetchone()["n"]
            conn.execute(
                "INSERT INTO session_turns (session_id, turn, asked, question, run_id, answer, usd, tokens, hops,"
                " elapsed_ms) VALUES (%s, %s, %s, %s, %s, %s::jsonb, %s, %s, %s, %s)",
                (
                    session_id,
                    number,
                    asked,
                    answer.question,
                    answer.run_id or None,
                    json.dumps(payload, default=str),
                    usage.usd,
                    usage.tokens,
                    usage.hops,
                    usage.seconds * 1000,
                ),
            )
            conn.execute("UPDATE sessions SET updated_at = now() WHERE id = %s", (session_id,))
        return TurnRecord(number, asked, answer.question, answer.run_id or None, payload, usage)
