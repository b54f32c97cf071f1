"""Every number in the settings has a ceiling: a duration or size far beyond any sane value (a TTL of
31,000 years, a reserve of 10^12 dollars) is refused at load time naming its key, rather than
accepted and failing every run later ("timestamp out of range")."""

import types
from collections.abc import Iterator
from typing import Any, Union, get_args, get_origin

import pytest
from pydantic import BaseModel

from quarry.agent.settings import Settings, load_settings
from quarry.errors import ConfigError

PRICED = "claude-haiku-5-5"  # a shipped model whose price has every field, long-prompt rates included


def _members(annotation: Any) -> tuple[Any, ...]:
    if get_origin(annotation) in (Union, types.UnionType):
        return tuple(a for a in get_args(annotation) if a is not type(None))
    return (annotation,)


def _is_model(kind: Any) -> bool:
    return isinstance(kind, type) and issubclass(kind, BaseModel)


def numeric_settings(model: type[BaseModel], prefix: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    """The dotted path of every int or float setting, through nested sections and the prices table."""
    for name, field in model.model_fields.items():
        for kind in _members(field.annotation):
            if kind in (int, float):
                yield (*prefix, name)
            elif _is_model(kind):
                yield from numeric_settings(kind, (*prefix, name))
            elif get_origin(kind) is dict and _is_model(get_args(kind)[1]):
                yield from numeric_settings(get_args(kind)[1], (*prefix, name, PRICED))


NUMERIC = sorted(set(numeric_settings(Settings)))


def test_the_walk_finds_the_settings_the_reports_named():
    assert {("cache", "ttl_seconds"), ("ingest", "gc_grace_seconds"), ("research", "budget", "max_seconds")} <= set(
        NUMERIC
    )
    assert ("llm", "prices", PRICED, "long_prompt", "threshold_tokens") in NUMERIC and len(NUMERIC) > 60


@pytest.mark.parametrize("path", NUMERIC, ids=".".join)
def test_an_absurd_value_is_refused_naming_its_key(path: tuple[str, ...]):
    data = Settings().model_dump(mode="json")
    node = data
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = 10**12
    with pytest.raises(ConfigError) as caught:
        load_settings(None, overrides=data, environ={})
    assert f"  {'.'.join(path)}: " in str(caught.value)
