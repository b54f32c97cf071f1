"""The graph layer's errors; they live in the one tree in quarry.errors (re-exported here).
Budgets normally stop a run by routing to finalize; BudgetExceeded is a backstop."""

from quarry.errors import AccountNotFound, BudgetExceeded, InvalidQuestion, SessionBudgetSpent

__all__ = ["AccountNotFound", "BudgetExceeded", "InvalidQuestion", "SessionBudgetSpent"]
