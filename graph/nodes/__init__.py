"""One node per module; each does its one job and leaves budgets to the guard and the routes."""
