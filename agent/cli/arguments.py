"""Argument types and shared options for the subcommands; bad values become argparse errors (exit 2)."""

import argparse
from datetime import date, datetime, time, timezone
from typing import TYPE_CHECKING

from agent.errors import QuarryError

if TYPE_CHECKING:
    from corpus.filters import SearchFilters


class UsageError(QuarryError):
    """A command's arguments are inconsistent; the message names the flag."""


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


def positive_float(value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{value}' is not a number") from None
    if not number > 0 or number == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a positive number, got {value}")
    return number


def add_filter_arguments(parser: argparse.ArgumentParser) -> None:
    """Metadata filters and the reader's access groups, shared by every command that retrieves."""
    parser.add_argument("--domain", action="append", default=[], help="only this domain (repeatable)")
    parser.add_argument("--author", action="append", default=[], help="only this author (repeatable)")
    parser.add_argument("--tag", action="append", default=[], help="only documents with this tag (repeatable)")
    parser.add_argument("--after", type=when, metavar="WHEN", help="published at or after (YYYY-MM-DD or ISO-8601)")
    parser.add_argument("--before", type=when, metavar="WHEN", help="published before")
    parser.add_argument(
        "--groups", type=group_list, default=("public",), metavar="GROUPS",
        help="the reader's access groups, comma-separated (default: public)",
    )


def filters_from(args: argparse.Namespace) -> "SearchFilters":
    """The SearchFilters the flags describe; an inconsistent set (after ≥ before) raises UsageError."""
    from pydantic import ValidationError

    from corpus.filters import SearchFilters

    try:
        return SearchFilters(
            domains=tuple(args.domain), authors=tuple(args.author), tags=tuple(args.tag),
            published_after=args.after, published_before=args.before,
        )
    except ValidationError as exc:
        raise UsageError(exc.errors()[0]["msg"].removeprefix("Value error, ")) from None
