"""A commented config.yaml holding every section and key at its default (`quarry config init`).

Comments come from the settings models themselves: a field's docstring and its allowed range, so the
file never drifts from the code. Loading it back gives exactly `Settings()`."""

import ast
import inspect
import itertools
import textwrap
from functools import cache
from typing import Any, Literal, get_args, get_origin

import yaml
from pydantic import BaseModel

from quarry.agent.settings import CONFIG_ENV, Settings

_HEADER = f"""\
# Quarry configuration, every key at its default (written by `quarry config init`).
# Every key is validated at start-up: a misspelt key or an out-of-range value is an error naming it.
# Delete what you do not change. Override any key with QUARRY_SECTION__KEY (e.g.
# QUARRY_CHUNKING__MAX_TOKENS=300); QUARRY_DATA_DIR, QUARRY_DATABASE_URL and QUARRY_PROVIDER are
# short forms. {CONFIG_ENV} names this file when it is not ./config.yaml.
# `quarry config show` prints the effective settings and where each came from.
"""
_INDENT = "  "
_BOUNDS = (("ge", ">="), ("gt", ">"), ("le", "<="), ("lt", "<"))


def config_template() -> str:
    lines = [_HEADER.rstrip("\n")]
    _model_lines(Settings(), 0, lines)
    return "\n".join(lines) + "\n"


def _model_lines(model: BaseModel, depth: int, lines: list[str]) -> None:
    pad = _INDENT * depth
    docs = _field_docs(type(model))
    for name, field in type(model).model_fields.items():
        value = getattr(model, name)
        if depth == 0:
            lines.append("")
        comment = [*docs.get(name, "").splitlines(), *_choices(field.annotation), *_bounds(field.metadata)]
        lines.extend(f"{pad}# {line}".rstrip() for line in comment)
        if isinstance(value, BaseModel):
            lines.append(f"{pad}{name}:")
            _model_lines(value, depth + 1, lines)
            continue
        plain = model.model_dump(mode="json", include={name})[name]
        dumped = yaml.safe_dump({name: plain}, default_flow_style=False, sort_keys=False, allow_unicode=True)
        lines.extend(pad + line for line in dumped.rstrip("\n").splitlines())


def _choices(annotation: Any) -> list[str]:
    """'one of: a, b' for a Literal field (also inside `X | None`)."""
    options = [annotation] if get_origin(annotation) is Literal else get_args(annotation)
    names = [str(v) for option in options if get_origin(option) is Literal for v in get_args(option)]
    return [f"one of: {', '.join(names)}"] if names else []


def _bounds(metadata: list[Any]) -> list[str]:
    allowed = [f"{sign} {getattr(item, attr)}" for item in metadata for attr, sign in _BOUNDS if hasattr(item, attr)]
    patterns = [item.pattern for item in metadata if isinstance(getattr(item, "pattern", None), str)]
    parts = ([", ".join(allowed)] if allowed else []) + [f"matches {p}" for p in patterns]
    return [f"allowed: {'; '.join(parts)}"] if parts else []


@cache
def _field_docs(model: type[BaseModel]) -> dict[str, str]:
    """Each field's attribute docstring (the string literal under its annotation), base classes first."""
    docs: dict[str, str] = {}
    for klass in reversed(model.__mro__):
        if not (isinstance(klass, type) and issubclass(klass, BaseModel)) or klass is BaseModel:
            continue
        try:
            tree = ast.parse(textwrap.dedent(inspect.getsource(klass)))
        except (OSError, TypeError, SyntaxError):  # no source (a frozen install): no comments, same values
            continue
        body = tree.body[0].body if tree.body and isinstance(tree.body[0], ast.ClassDef) else []
        for statement, following in itertools.pairwise(body):
            if (
                isinstance(statement, ast.AnnAssign)
                and isinstance(statement.target, ast.Name)
                and isinstance(following, ast.Expr)
                and isinstance(following.value, ast.Constant)
                and isinstance(following.value.value, str)
            ):
                docs[statement.target.id] = inspect.cleandoc(following.value.value)
    return docs
