"""Argument types and shared options for the subcommands; bad values become argparse errors (exit 2)."""

import argparse
from datetime import date, datetime, time, timezone


def when(value: str) -> datetime:
    """A date (midnight UTC) or a timezone-aware ISO-8601 timestamp."""
    text = value.strip()
    try:
        if len(text) == 10:
            return datetime.combine(date.fromisoformat(text), time(0, 0), tzinfo=timezone.utc)
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{value}' is not a date (YYYY-MM-DD) or ISO-8601 timestamp") from None
    if moment.tzinfo is None:
        raise argparse.ArgumentTypeError(f"'{value}' has no timezone (add Z or an offset like +02:00)")
    return moment


def group_list(value: str) -> tuple[str, ...]:
    groups = tuple(part.strip() for part in value.split(",") if part.strip())
    if not groups:
        raise argparse.ArgumentTypeError("expected one or more comma-separated names, e.g. public,engineering")
    return groups


def positive_int(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{value}' is not a whole number") from None
    if number < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {number}")
    return number
