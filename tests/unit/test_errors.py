"""One exception tree rooted at QuarryError: every public error carries its exit code and HTTP status,
the drawing in quarry.errors matches the classes, and the CLI maps an escaped error in one place."""

import contextlib
import importlib
import io
import pkgutil
import re
from http import HTTPStatus
from pathlib import Path

import pytest

import quarry
import quarry.errors
from quarry.errors import ExitCode, QuarryError

_DRAWN = re.compile(
    r"^(?P<indent>[ │├└─]*)(?P<name>[A-Z]\w+)(?: \((?P<builtin>\w+)\))?\s+(?P<exit>\d+)\s+(?P<http>\d+)$"
)


def _public_errors() -> list[type[QuarryError]]:
    return [
        value
        for name in quarry.errors.__all__
        if isinstance(value := getattr(quarry.errors, name), type) and issubclass(value, QuarryError)
    ]


def _drawing() -> list[tuple[int, str, str | None, int, int]]:
    lines = []
    for line in (quarry.errors.__doc__ or "").splitlines():
        if match := _DRAWN.match(line.strip("\n").removeprefix("    ")):
            lines.append(
                (
                    len(match["indent"]),
                    match["name"],
                    match["builtin"],
                    int(match["exit"]),
                    int(match["http"]),
                )
            )
    return lines


@pytest.mark.parametrize("error", _public_errors(), ids=lambda cls: cls.__name__)
def test_every_public_error_has_an_exit_code_and_an_http_status(error: type[QuarryError]):
    assert isinstance(error.exit_code, ExitCode) and error.exit_code != ExitCode.OK
    assert isinstance(error.http_status, HTTPStatus) and error.http_status >= 400


def test_the_drawing_is_the_tree():
    drawn = _drawing()
    assert sorted(name for _, name, *_ in drawn) == sorted(cls.__name__ for cls in _public_errors())
    parents: dict[int, str] = {}
    for indent, name, builtin, exit_code, http_status in drawn:
        error = getattr(quarry.errors, name)
        parents[indent] = name
        parent = max((i for i in parents if i < indent), default=None)
        if parent is not None:
            assert error.__bases__[0].__name__ == parents[parent], f"{name} is drawn under {parents[parent]}"
        others = [base.__name__ for base in error.__bases__[1:]]
        assert others == ([builtin] if builtin else []), f"{name}: builtin bases {others}"
        assert (error.exit_code, error.http_status) == (exit_code, http_status), name


def test_every_quarry_error_anywhere_is_in_the_one_module():
    """Layers may re-export the tree's errors, never define a QuarryError of their own."""
    for package in ("quarry.corpus", "quarry.tools", "quarry.graph", "quarry.agent", "quarry.eval"):
        root = importlib.import_module(package)
        for info in pkgutil.walk_packages(root.__path__, prefix=f"{package}."):
            with contextlib.suppress(ImportError):
                importlib.import_module(info.name)

    def subclasses(cls: type) -> set[type]:
        return {cls} | {s for sub in cls.__subclasses__() for s in subclasses(sub)}

    defined = {cls for cls in subclasses(QuarryError) if cls.__module__ == "quarry.errors"}
    assert defined == set(_public_errors())
    assert {cls.__qualname__ for cls in subclasses(QuarryError) if cls.__module__ != "quarry.errors"} == set()


def test_builtin_bases_that_are_part_of_the_contract_remain():
    assert issubclass(quarry.errors.BudgetExceeded, RuntimeError), "LangGraph must not retry it"
    assert issubclass(quarry.errors.InvalidQuestion, ValueError)
    assert issubclass(quarry.errors.AccountNotFound, LookupError)


def test_catching_quarry_error_around_ask_catches_an_invalid_question(tmp_path: Path):
    with (
        quarry.Assistant.from_config(data_dir=tmp_path, provider="offline") as assistant,
        pytest.raises(QuarryError, match="the question is empty") as caught,
    ):
        assistant.ask("   ")
    assert isinstance(caught.value, quarry.InvalidQuestion) and isinstance(caught.value, ValueError)


def test_messages_are_kept():
    assert (
        str(quarry.errors.BudgetExceeded("cost", "rerank needs $0.01")) == "budget exhausted (cost): rerank needs $0.01"
    )
    assert str(quarry.errors.SessionBudgetSpent("hops", "3 of 3 hops used")) == (
        "the session's budget is spent (hops): 3 of 3 hops used"
    )
    problem = quarry.errors.FieldProblem("author", "missing required field 'author'", "set it in front matter")
    assert str(quarry.errors.MetadataError("notes/q3.md", [problem])) == (
        "document 'notes/q3.md': missing required field 'author' (set it in front matter)"
    )


@pytest.mark.parametrize(
    ("argv", "stderr"),
    [
        (["search", "  "], "quarry: the query is empty\n"),
        (
            ["eval", "qa", "d.jsonl", "--concurrency", "65"],
            "quarry eval qa: --concurrency must be at most 64, got 65\n",
        ),
    ],
)
def test_the_cli_entry_point_maps_an_escaped_error_to_its_exit_code(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, argv: list[str], stderr: str
):
    from quarry.agent.cli.main import main

    monkeypatch.setenv("QUARRY_DATA_DIR", str(tmp_path))
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        assert main(argv) == quarry.errors.UsageError.exit_code == 2
    assert err.getvalue() == stderr
