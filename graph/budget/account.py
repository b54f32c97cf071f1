"""Account budgets: a cap on tokens and dollars shared by every run, session and worker process that
charges the account, held in PostgreSQL.

Each model call holds its worst case on the account before it is made (next to the run's own
hold) and settles to its reported usage after. A hold is granted by a single UPDATE whose WHERE
re-checks the cap: PostgreSQL re-evaluates it against the latest row under the row lock, so two
runs racing for the last dollar cannot both get it. Holds left by a process that died are
forfeited (counted as spent) when their runs are marked abandoned: safe rather than generous.
"""

from dataclasses import dataclass
from typing import Any

from quarry.corpus.db import Database
from quarry.errors import AccountNotFound, BudgetExceeded

TABLES = ("accounts", "account_holds")


@dataclass(frozen=True)
class AccountState:
    id: str
    max_usd: float
    max_tokens: int
    spent_usd: float
    spent_tokens: int
    held_usd: float
    held_tokens: int
    open_holds: int

    @property
    def left_usd(self) -> float:
        return max(0.0, self.max_usd - self.spent_usd - self.held_usd)

    @property
    def left_tokens(self) -> int:
        return max(0, self.max_tokens - self.spent_tokens - self.held_tokens)


@dataclass(frozen=True)
class AccountHold:
    id: int
    tokens: int
    usd: float


class Accounts:
    """The accounts table: create and read accounts, and hold, settle and release on them."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def set(self, account: str, *, max_usd: float, max_tokens: int) -> AccountState:
        """Create the account, or change its caps (what it has spent is kept)."""
        with self.db.transaction() as conn:
            conn.execute(
                "INSERT INTO accounts (id, max_usd, max_tokens) VALUES (%s, %s, %s)"
                " ON CONFLICT (id) DO UPDATE SET max_usd = excluded.max_usd, max_tokens = excluded.max_tokens,"
                " updated_at = now()",
                (account, max_usd, max_tokens),
            )
        return self.state(account)

    def reset(self, account: str) -> AccountState:
        """Zero what the account has spent (a new billing period); open holds stay."""
        with self.db.transaction() as conn:
            if not conn.execute(
                "UPDATE accounts SET spent_usd = 0, spent_tokens = 0, updated_at = now() WHERE id = %s",
                (account,),
            ).rowcount:
                raise AccountNotFound(_missing(account))
        return self.state(account)

    def state(self, account: str) -> AccountState:
        states = self.states([account])
        if not states:
            raise AccountNotFound(_missing(account))
        return states[0]

    def states(self, accounts: list[str] | None = None) -> list[AccountState]:
        with self.db.transaction() as conn:
            rows = conn.execute(
                "SELECT a.id, a.max_usd, a.max_tokens, a.spent_usd, a.spent_tokens, a.held_usd, a.held_tokens,"
                " (SELECT count(*) FROM account_holds h WHERE h.account_id = a.id) AS open_holds"
                " FROM accounts a WHERE %(ids)s::text[] IS NULL OR a.id = ANY(%(ids)s) ORDER BY a.id",
                {"ids": accounts},
            ).fetchall()
        return [AccountState(**row) for row in rows]

    def hold(self, account: str, run_id: str | None, node: str, tokens: int, usd: float) -> AccountHold:
        """Hold `tokens`/`usd` on the account, or raise BudgetExceeded("account") when the cap lacks room."""
        with self.db.transaction() as conn:
            row = conn.execute(
                "WITH granted AS ("
                " UPDATE accounts SET held_usd = held_usd + %(usd)s, held_tokens = held_tokens + %(tokens)s,"
                " updated_at = now()"
                " WHERE id = %(account)s AND spent_usd + held_usd + %(usd)s <= max_usd + 1e-12"
                " AND spent_tokens + held_tokens + %(tokens)s <= max_tokens RETURNING id)"
                " INSERT INTO account_holds (account_id, run_id, node, usd, tokens)"
                " SELECT id, %(run)s, %(node)s, %(usd)s, %(tokens)s FROM granted RETURNING id",
                {"account": account, "run": run_id, "node": node, "usd": usd, "tokens": tokens},
            ).fetchone()
        if row is None:
            state = self.state(account)
            raise BudgetExceeded(
                "account",
                f"{node} needs {tokens} tokens / ${usd:.6f}; account '{account}' has {state.left_tokens} tokens / "
                f"${state.left_usd:.6f} left of {state.max_tokens} / ${state.max_usd:.2f}",
            )
        return AccountHold(row["id"], tokens, usd)

    def settle(self, hold: AccountHold, tokens: int, usd: float) -> None:
        """Replace the hold with what the call used (its reported usage)."""
        with self.db.transaction() as conn:
            conn.execute(
                "WITH h AS (DELETE FROM account_holds WHERE id = %(hold)s RETURNING account_id, usd, tokens)"
                " UPDATE accounts a SET held_usd = a.held_usd - h.usd, held_tokens = a.held_tokens - h.tokens,"
                " spent_usd = a.spent_usd + %(usd)s, spent_tokens = a.spent_tokens + %(tokens)s, updated_at = now()"
                " FROM h WHERE a.id = h.account_id",
                {"hold": hold.id, "usd": usd, "tokens": tokens},
            )

    def release(self, hold: AccountHold) -> None:
        """The call never happened: the whole hold goes back."""
        self.settle(hold, 0, 0.0)

    def forfeit_runs(self, finished_runs: str) -> None:
        """Holds of runs that can no longer settle them (abandoned or finished runs, a process that died
        mid-call) count as spent. `finished_runs` is the ledger store's subquery of those runs' ids, so the
        forfeit is one statement and only the ledger names its tables."""
        self._forfeit(f"run_id IN ({finished_runs})", {})

    def forfeit_run(self, run_id: str) -> None:
        """At a run's close: any hold it still has (a write lost to a cancellation) counts as spent."""
        self._forfeit("run_id = %(run)s", {"run": run_id})

    def _forfeit(self, which: str, params: dict[str, Any]) -> None:
        with self.db.transaction() as conn:
            conn.execute(
                f"WITH h AS (DELETE FROM account_holds WHERE {which} RETURNING account_id, usd, tokens),"
                " totals AS (SELECT account_id, sum(usd) AS usd, sum(tokens) AS tokens FROM h GROUP BY account_id)"
                " UPDATE accounts a SET held_usd = a.held_usd - t.usd, held_tokens = a.held_tokens - t.tokens,"
                " spent_usd = a.spent_usd + t.usd, spent_tokens = a.spent_tokens + t.tokens, updated_at = now()"
                " FROM totals t WHERE a.id = t.account_id",
                params,
            )


@dataclass(frozen=True)
class AccountTab:
    """One run's line on an account: what call_model holds and settles through."""

    accounts: Accounts
    account: str
    run_id: str

    def hold(self, node: str, tokens: int, usd: float) -> AccountHold:
        return self.accounts.hold(self.account, self.run_id, node, tokens, usd)

    def settle(self, hold: AccountHold, tokens: int, usd: float) -> None:
        self.accounts.settle(hold, tokens, usd)

    def release(self, hold: AccountHold) -> None:
        self.accounts.release(hold)

    def forfeit(self, hold: AccountHold) -> None:
        self.accounts.settle(hold, hold.tokens, hold.usd)


def _missing(account: str) -> str:
    return f"no account '{account}' (create it with: quarry account set {account} --max-usd N --max-tokens N)"
