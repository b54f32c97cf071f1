"""A request's loose inputs made into what the engine takes: limits merged over the configured
defaults, filters validated, identity claims refused. Errors name the field at fault."""

from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from quarry.agent.inputs import search_filters
from quarry.agent.service.problems import IDENTITY_FIELDS, identity_refusal
from quarry.agent.service.schemas import BudgetBody
from quarry.corpus.filters import SearchFilters
from quarry.errors import InvalidFilters, InvalidQuestion, UsageError
from quarry.graph.budget.limits import Limits
from quarry.graph.engine import validate_question


def question_of(text: str) -> str:
    try:
        return validate_question(text)
    except InvalidQuestion as exc:
        raise InvalidQuestion(str(exc), field="question") from None


def limits_of(body: BudgetBody | None, defaults: Limits) -> Limits:
    if body is None:
        return defaults
    given = body.model_dump(exclude_none=True)
    try:
        return Limits.model_validate({**defaults.model_dump(), **given})
    except ValidationError as exc:
        error = exc.errors()[0]
        field = "budget" + "".join(f".{part}" for part in error["loc"])
        raise UsageError(f"{field}: {error['msg'].removeprefix('Value error, ')}", field=field) from None


def filters_of(value: Mapping[str, Any] | None) -> SearchFilters:
    for key in value or {}:
        if key in IDENTITY_FIELDS:
            raise UsageError(identity_refusal(f"filters.{key}"), field=f"filters.{key}")
    try:
        return search_filters(value)
    except InvalidFilters as exc:
        raise InvalidFilters(str(exc), field="filters") from None
