"""The store of chat sessions (tables `sessions` and `session_turns`): created, resumed by id, and
extended one turn at a time. The engine reads a session before each turn (its history and what
its budget has left) and appends the turn after it, so every front door keeps sessions alike."""

import json
import uuid
from dataclasses import dataclass
from datetime import datetime

from quarry.corpus.db import Database, one_row
from quarry.corpus.filters import Principal
from quarry.errors import SessionForbidden, SessionNotFound
from quarry.graph.answer import Answer, Citation
from quarry.graph.budget.limits import Limits
from quarry.graph.budget.session_budget import SessionUsage
from quarry.tools.llm.base import Turn

TABLES = ("sessions", "session_turns")


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
            row = one_row(
                conn.execute(
                    "INSERT INTO sessions (id, principal_id, principal_groups, budget) VALUES (%s, %s, %s, %s::jsonb)"
                    " RETURNING created_at",
                    (session_id, principal.id, list(principal.groups), json.dumps(budget.model_dump())),
                )
            )
        return SessionRecord(id=session_id, principal=principal, budget=budget, created_at=row["created_at"], turns=())

    def load(self, session_id: str, principal: Principal | None = None) -> SessionRecord:
        """The session and its turns; `principal`, when given, must be the session's owner."""
        key = _session_key(session_id)
        with self.db.transaction() as conn:
            rows = conn.execute(
                "SELECT * FROM sessions WHERE id::text LIKE %s ORDER BY created_at LIMIT 2", (key + "%",)
            ).fetchall()
            if not rows:
                raise SessionNotFound(f"no session {session_id} in this corpus")
            if len(rows) > 1:
                raise SessionNotFound(f"'{session_id}' matches more than one session; give more of its id")
            row = rows[0]
            key = str(row["id"])
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
            id=key,
            principal=owner,
            budget=Limits.model_validate(row["budget"]),
            created_at=row["created_at"],
            turns=tuple(
                TurnRecord(
                    number=t["turn"],
                    asked=t["asked"],
                    question=t["question"],
                    run_id=str(t["run_id"]) if t["run_id"] else None,
                    answer=Answer.load(t["answer"]),
                    usage=SessionUsage(
                        seconds=t["elapsed_ms"] / 1000, hops=t["hops"], tokens=t["tokens"], usd=t["usd"]
                    ),
                )
                for t in turns
            ),
        )

    def add_turn(self, session_id: str, asked: str, answer: Answer) -> TurnRecord:
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
        return TurnRecord(
            number=number,
            asked=asked,
            question=answer.question,
            run_id=answer.run_id or None,
            answer=answer,
            usage=usage,
        )


def _session_key(session_id: str) -> str:
    """A session id, or a unique prefix of at least 6 characters (as `quarry runs` takes run ids)."""
    text = session_id.strip().lower() if isinstance(session_id, str) else ""
    if len(text) < 6 or any(c not in "0123456789abcdef-" for c in text):
        raise SessionNotFound(f"'{session_id}' is not a session id (a UUID, or at least its first 6 characters)")
    return text
