"""Errors raised by evaluation; they live in the one tree in quarry.errors (re-exported here)."""

from quarry.errors import DatasetError, RunMismatch

__all__ = ["DatasetError", "RunMismatch"]
