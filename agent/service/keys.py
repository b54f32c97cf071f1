"""The API-key store (table `api_keys`): create, verify, list and revoke the service's keys.

A key is `qk_` and 43 URL-safe characters (256 random bits). Only its SHA-256 is stored: with that
much entropy a fast hash cannot be brute-forced, and verifying stays one index probe. The key is
shown once, when created; afterwards its first characters (`prefix`) name it. A key carries the
principal, the access groups and the optional budget account every request made with it runs as.
"""

import hashlib
import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from quarry.corpus.db import Database
from quarry.corpus.filters import Principal
from quarry.errors import ApiKeyNotFound, UsageError

TABLES = ("api_keys",)
KEY_PREFIX = "qk_"
_SHOWN_CHARS = 11
"""`qk_` and 8 characters: enough to tell keys apart in a list, far too few to guess the rest."""


@dataclass(frozen=True, kw_only=True, slots=True)
class ApiKey:
    """What a key stands for (never the key itself)."""

    id: str
    prefix: str
    principal: Principal
    account: str | None
    note: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


@dataclass(frozen=True, kw_only=True, slots=True)
class IssuedKey:
    key: str
    """The secret, shown once."""
    record: ApiKey


class ApiKeyStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    def create(
        self, principal_id: str, groups: Sequence[str], *, account: str | None = None, note: str = ""
    ) -> IssuedKey:
        principal = _principal(principal_id, groups)
        key = KEY_PREFIX + secrets.token_urlsafe(32)
        with self.db.transaction() as conn:
            row = conn.execute(
                "INSERT INTO api_keys (id, prefix, key_sha256, principal_id, groups, account, note)"
                " VALUES (%s, %s, %s, %s, %s, %s, %s) RETURNING *",
                (
                    str(uuid.uuid4()),
                    key[:_SHOWN_CHARS],
                    digest(key),
                    principal.id,
                    list(principal.groups),
                    account,
                    note,
                ),
            ).fetchone()
        assert row is not None  # INSERT … RETURNING returns the row
        return IssuedKey(key=key, record=_record(row))

    def verify(self, key: str) -> ApiKey | None:
        """The live key `key` is, or None (unknown, malformed or revoked). When it was last used is noted
        to the minute, so a busy key does not write on every request."""
        if not key.startswith(KEY_PREFIX) or len(key) > 200:
            return None
        with self.db.transaction() as conn:
            row = conn.execute(
                "SELECT *, last_used_at < now() - interval '1 minute' AS stale_use FROM api_keys"
                " WHERE key_sha256 = %s AND revoked_at IS NULL",
                (digest(key),),
            ).fetchone()
            if row is not None and (row["last_used_at"] is None or row["stale_use"]):
                conn.execute("UPDATE api_keys SET last_used_at = now() WHERE id = %s", (row["id"],))
        return _record(row) if row is not None else None

    def list(self, *, include_revoked: bool = False) -> list[ApiKey]:
        with self.db.transaction() as conn:
            rows = conn.execute(
                "SELECT * FROM api_keys WHERE %s OR revoked_at IS NULL ORDER BY created_at", (include_revoked,)
            ).fetchall()
        return [_record(row) for row in rows]

    def revoke(self, prefix: str) -> ApiKey:
        """Revoke the live key whose prefix (as `quarry keys list` shows it) or id is `prefix`."""
        text = prefix.strip()
        with self.db.transaction() as conn:
            rows = conn.execute(
                "UPDATE api_keys SET revoked_at = now() WHERE revoked_at IS NULL AND (prefix = %s OR id::text = %s)"
                " RETURNING *",
                (text, text),
            ).fetchall()
        if not rows:
            raise ApiKeyNotFound(f"no live API key '{prefix}' (see `quarry keys list` for the prefixes of live keys)")
        return _record(rows[0])


def digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _principal(principal_id: str, groups: Sequence[str]) -> Principal:
    principal_id = principal_id.strip()
    clean = tuple(dict.fromkeys(g.strip() for g in groups if g.strip()))
    if not principal_id:
        raise UsageError("--principal is empty: name who the key acts for, e.g. --principal alice")
    if not clean:
        raise UsageError("--groups is empty: give the access groups the key reads with, e.g. --groups public,sre")
    return Principal(id=principal_id, groups=clean)


def _record(row: dict[str, object]) -> ApiKey:
    return ApiKey(
        id=str(row["id"]),
        prefix=str(row["prefix"]),
        principal=Principal(id=str(row["principal_id"]), groups=tuple(row["groups"])),  # type: ignore[arg-type]
        account=row["account"],  # type: ignore[arg-type]
        note=str(row["note"]),
        created_at=row["created_at"],  # type: ignore[arg-type]
        last_used_at=row["last_used_at"],  # type: ignore[arg-type]
        revoked_at=row["revoked_at"],  # type: ignore[arg-type]
    )
