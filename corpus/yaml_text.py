"""YAML as people write it (front matter, sidecars, config.yaml): PyYAML's safe loader, with every
failure turned into one YamlProblem that says what and where.

PyYAML raises plain ValueError/AttributeError for scalars its resolver mistakes for a type it then
cannot build (`published_at: 2024-13-01`, a 5,000-digit number, `!!timestamp soon`) and
RecursionError for deep nesting. Such scalars load as the text they are, so the field's own
check reports them by name; nesting too deep for the parser is a YamlProblem.
"""

from collections.abc import Callable
from typing import Any

import yaml
from yaml.constructor import SafeConstructor
from yaml.nodes import Node


class YamlProblem(ValueError):
    """Text that is not YAML; `problem` says what is wrong, `at` where (" at line L, column C" or "")."""

    def __init__(self, problem: str, at: str = "") -> None:
        self.problem = problem
        self.at = at
        super().__init__(f"{problem}{at}")


class _Loader(yaml.SafeLoader):  # type: ignore[misc]  # PyYAML ships no types: SafeLoader is Any to mypy
    """SafeLoader whose int, float, bool and timestamp scalars fall back to text when they cannot be built."""


def _lenient(construct: Callable[[SafeConstructor, Node], Any]) -> Callable[[SafeConstructor, Node], Any]:
    def build(loader: SafeConstructor, node: Node) -> Any:
        try:
            return construct(loader, node)
        except (ValueError, TypeError, AttributeError, LookupError, OverflowError):
            return node.value

    return build


for _tag in ("int", "float", "bool", "timestamp"):
    _name = f"tag:yaml.org,2002:{_tag}"
    _Loader.add_constructor(_name, _lenient(SafeConstructor.yaml_constructors[_name]))


def load_yaml(source: str) -> Any:
    """The value `source` holds (None when empty); YamlProblem when it is not YAML."""
    try:
        return yaml.load(source, Loader=_Loader)  # _Loader is a SafeLoader
    except yaml.reader.ReaderError as exc:
        raise YamlProblem(
            f"unacceptable character #x{exc.character:04x}" if isinstance(exc.character, int) else exc.reason,
            _at_position(source, exc.position),
        ) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise YamlProblem(getattr(exc, "problem", None) or "invalid YAML", at) from None
    except RecursionError:
        raise YamlProblem("nested too deeply (more than a few hundred levels of lists or mappings)") from None


def _at_position(source: str, position: int) -> str:
    line = source.count("\n", 0, position) + 1
    column = position - (source.rfind("\n", 0, position) + 1) + 1
    return f" at line {line}, column {column}"
