"""The Python API's loose inputs made into what the engine takes: a principal from a name or a dict
(InvalidPrincipal), search filters from a dict (InvalidFilters naming every field at fault). Text
PostgreSQL cannot hold (a NUL, a lone surrogate) is refused here, by the models' one check, before
a run starts."""

from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from quarry.corpus.filters import Principal, SearchFilters
from quarry.errors import InvalidFilters, InvalidPrincipal


def principal_of(value: Principal | str | Mapping[str, Any] | None) -> Principal:
    if value is None:
        return Principal()
    if isinstance(value, Principal):
        return value
    if not isinstance(value, (str, Mapping)):
        raise InvalidPrincipal(
            f"principal must be an id (str), a Principal or a dict of its fields, not {type(value).__name__}"
        )
    try:
        return Principal(id=value) if isinstance(value, str) else Principal.model_validate(dict(value))
    except ValidationError as exc:
        raise InvalidPrincipal(f"principal: {_problems(exc, 'principal')} (fields: id, groups)") from None


def search_filters(value: SearchFilters | Mapping[str, Any] | None) -> SearchFilters:
    if value is None:
        return SearchFilters()
    if isinstance(value, SearchFilters):
        return value
    if not isinstance(value, Mapping):
        raise InvalidFilters(
            f"invalid filters: expected SearchFilters or a dict of its fields, not {type(value).__name__} "
            f"(allowed: {', '.join(SearchFilters.model_fields)})"
        )
    try:
        return SearchFilters.model_validate(dict(value))
    except ValidationError as exc:
        raise InvalidFilters(
            f"invalid filters: {_problems(exc, 'filters')} (allowed: {', '.join(SearchFilters.model_fields)})"
        ) from None


def _problems(exc: ValidationError, what: str) -> str:
    return "; ".join(
        f"{'.'.join(map(str, e['loc'])) or what}: {e['msg'].removeprefix('Value error, ')}" for e in exc.errors()
    )
