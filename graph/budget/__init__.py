"""The budget controller: limits, spend (with its reducer) and the shared pool every node draws from."""

from quarry.graph.budget.limits import Limits, StopReason
from quarry.graph.budget.pool import BudgetPool, Remaining, Reservation
from quarry.graph.budget.spend import NodeSpend, Spend

__all__ = ["BudgetPool", "Limits", "NodeSpend", "Remaining", "Reservation", "Spend", "StopReason"]
