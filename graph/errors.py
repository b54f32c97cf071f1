"""Errors of the graph layer. Budgets normally stop a run by routing to finalize; these are backstops."""

from quarry.graph.budget.limits import StopReason


class BudgetExceeded(RuntimeError):
    """A call did not fit the budget. Subclasses RuntimeError because LangGraph retries unknown exception
    classes by default; this one must never be retried."""

    def __init__(self, reason: StopReason, detail: str) -> None:
        self.reason = reason
        super().__init__(f"budget exhausted ({reason}): {detail}")


class InvalidQuestion(ValueError):
    """The question cannot be asked as given (empty, or too long); the message says which."""


class AccountNotFound(LookupError):
    """The configured budget account does not exist; the message says how to create it."""
