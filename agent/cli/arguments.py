"""Argument types and shared options for the subcommands; bad values become argparse errors (exit 2)."""

import argparse
import re
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING

from quarry.errors import UsageError

if TYPE_CHECKING:
    from pydantic_core import ErrorDetails

    from quarry.corpus.filters import SearchFilters
    from quarry.graph.budget.limits import Limits

_BUDGET_FLAGS = (
    ("max_usd", "--max-usd"),
    ("max_seconds", "--max-seconds"),
    ("max_hops", "--max-hops"),
    ("max_tokens", "--max-tokens"),
)


def when(value: str) -> datetime:
    """A date (midnight UTC) or a timezone-aware ISO-8601 timestamp."""
    text = value.strip()
    try:
        if len(text) == 10:
            return datetime.combine(date.fromisoformat(text), time(0, 0), tzinfo=UTC)
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        reason = f" ({exc})" if re.match(r"\d{4}-\d{2}-\d{2}", text) and "isoformat" not in str(exc) else ""
        raise argparse.ArgumentTypeError(
            f"'{clipped(value)}' is not a date (YYYY-MM-DD) or ISO-8601 timestamp{reason}"
        ) from None
    if moment.tzinfo is None:
        raise argparse.ArgumentTypeError(f"'{clipped(value)}' has no timezone (add Z or an offset like +02:00)")
    try:
        moment.astimezone(UTC)
    except OverflowError:
        raise argparse.ArgumentTypeError(
            f"'{clipped(value)}' is out of range (in UTC it falls outside the years 1 to 9999)"
        ) from None
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
        digits = value.strip().lstrip("+-")
        if digits.isascii() and digits.isdigit():  # over Python's 4,300-digit limit
            raise argparse.ArgumentTypeError(f"'{clipped(value)}' is too large ({len(digits):,} digits)") from None
        raise argparse.ArgumentTypeError(f"'{clipped(value)}' is not a whole number") from None
    if number < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {number}")
    return number


def positive_float(value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{clipped(value)}' is not a number") from None
    if not number > 0 or number == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a positive number, got {clipped(value)}")
    return number


def non_negative_float(value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{clipped(value)}' is not a number") from None
    if not number >= 0 or number == float("inf"):
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {clipped(value)}")
    return number


def since(value: str) -> datetime:
    """A moment in the past: a duration back from now (30m, 24h, 7d) or a date/timestamp as for `when`."""
    text = value.strip().lower()
    units = {"m": 60, "h": 3600, "d": 86400}
    if text[-1:] in units and text[:-1].isascii() and text[:-1].isdigit():
        try:
            return datetime.now(UTC) - timedelta(seconds=int(text[:-1]) * units[text[-1]])
        except (OverflowError, ValueError):
            raise argparse.ArgumentTypeError(f"'{clipped(value)}' reaches back before the year 1") from None
    if re.match(r"\d{4}-", text):
        return when(value)  # a date was meant: its own precise error (bad day, no timezone, out of range)
    try:
        return when(value)
    except argparse.ArgumentTypeError:
        raise argparse.ArgumentTypeError(
            f"'{clipped(value)}' is neither a duration (30m, 24h, 7d) nor a date (YYYY-MM-DD)"
        ) from None


def clipped(value: str, limit: int = 60) -> str:
    """`value` cut to `limit` characters for an error message (a 5,000-digit argument is not echoed whole)."""
    return value if len(value) <= limit else value[: limit - 1] + "…"


def add_budget_arguments(
    parser: argparse.ArgumentParser, *, title: str = "budget (per question)", prefix: str = ""
) -> None:
    """--max-usd/--max-seconds/--max-hops/--max-tokens (or with a prefix, e.g. --session-max-usd)."""
    group = parser.add_argument_group(title)
    flag = f"--{prefix}max"
    dest = prefix.replace("-", "_")
    group.add_argument(
        f"{flag}-usd",
        dest=f"{dest}max_usd",
        type=non_negative_float,
        metavar="USD",
        help="dollar ceiling (0 allows only free models)",
    )
    group.add_argument(
        f"{flag}-seconds", dest=f"{dest}max_seconds", type=positive_float, metavar="S", help="wall-clock deadline"
    )
    group.add_argument(
        f"{flag}-hops", dest=f"{dest}max_hops", type=positive_int, metavar="N", help="search → synthesize rounds"
    )
    group.add_argument(
        f"{flag}-tokens", dest=f"{dest}max_tokens", type=positive_int, metavar="N", help="LLM tokens in + out"
    )


def limits_from(args: argparse.Namespace, defaults: "Limits", *, prefix: str = "") -> "Limits":
    """`defaults` with the budget flags given on the command line; an inconsistent set raises UsageError."""
    from pydantic import ValidationError

    from quarry.graph.budget.limits import Limits

    dest = prefix.replace("-", "_")
    given = {key: getattr(args, dest + key) for key, _ in _BUDGET_FLAGS if getattr(args, dest + key, None) is not None}
    try:
        return Limits.model_validate({**defaults.model_dump(), **given})
    except ValidationError as exc:
        raise UsageError(_limit_error(exc.errors()[0], prefix)) from None


def _limit_error(error: "ErrorDetails", prefix: str) -> str:
    """'--max-hops must be at most 50, got 100' rather than pydantic's wording without the flag."""
    field = str(error["loc"][0]) if error["loc"] else ""
    flags = {key: flag.replace("--", f"--{prefix}", 1) for key, flag in _BUDGET_FLAGS}
    name = flags.get(field, f"research.budget.{field}" if field else "the budget")
    bounds = {
        "less_than_equal": ("at most", "le"),
        "greater_than_equal": ("at least", "ge"),
        "greater_than": ("more than", "gt"),
    }
    if error["type"] in bounds:
        words, key = bounds[error["type"]]
        return f"{name} must be {words} {_number(error['ctx'][key])}, got {_number(error['input'])}"
    return error["msg"].removeprefix("Value error, ")


def _number(value: object) -> str:
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e16:
        return str(int(value))
    return clipped(str(value))


def add_filter_arguments(parser: argparse.ArgumentParser) -> None:
    """Metadata filters and the reader's access groups, shared by every command that retrieves."""
    parser.add_argument("--domain", action="append", default=[], help="only this domain (repeatable)")
    parser.add_argument("--author", action="append", default=[], help="only this author, in any case (repeatable)")
    parser.add_argument("--tag", action="append", default=[], help="only documents with this tag (repeatable)")
    parser.add_argument(
        "--after", type=since, metavar="WHEN", help="published at or after: 30m, 24h, 7d ago, or YYYY-MM-DD / ISO-8601"
    )
    parser.add_argument("--before", type=since, metavar="WHEN", help="published before (same forms as --after)")
    parser.add_argument(
        "--groups",
        type=group_list,
        default=("public",),
        metavar="GROUPS",
        help="the reader's access groups, comma-separated (default: public)",
    )


def filters_from(args: argparse.Namespace) -> "SearchFilters":
    """The SearchFilters the flags describe; an inconsistent set (after ≥ before) raises UsageError."""
    from pydantic import ValidationError

    from quarry.corpus.filters import SearchFilters

    try:
        return SearchFilters(
            domains=tuple(args.domain),
            authors=tuple(args.author),
            tags=tuple(args.tag),
            published_after=args.after,
            published_before=args.before,
        )
    except ValidationError as exc:
        error = exc.errors()[0]
        flags = {"published_after": "--after", "published_before": "--before"}
        named = [flag for field, flag in flags.items() if field in error["msg"] or field in error["loc"]]
        prefix = "/".join(named) + ": " if named else ""
        raise UsageError(prefix + error["msg"].removeprefix("Value error, ")) from None
