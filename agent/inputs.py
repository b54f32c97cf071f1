"""The Python API's loose inputs made into what the engine takes: a principal from a name, search
filters from a dict (InvalidFilters naming every field at fault)."""

from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from quarry.corpus.filters import Principal, SearchFilters
from quarry.errors import InvalidFilters


def principal_of(value: Principal | str | None) -> Principal:
    if value is None:
        return Principal()
    if isinstance(value, str):
        return Principal(id=value)
    return value


def search_filters(value: SearchFilters | Mapping[str, Any] | None) -> SearchFilters:
    if value is None:
        return SearchFilters()
    if isinstance(value, SearchFilters):
        return value
    try:
        return SearchFilters.model_validate(dict(value))
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(map(str, e['loc'])) or 'filters'}: {e['msg'].removeprefix('Value error, ')}"
            for e in exc.errors()
        )
        raise InvalidFilters(
            f"invalid filters: {problems} (allowed: {', '.join(SearchFilters.model_fields)})"
        ) from None
