"""The Python API refuses text PostgreSQL cannot hold (a NUL, a lone surrogate from undecodable bytes)
and values of the wrong kind with a QuarryError naming the argument, before anything runs: never a
raw UnicodeEncodeError, TypeError or driver error from deep inside a run."""

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from pydantic import ValidationError

from quarry.agent import Assistant, Principal
from quarry.corpus.embed import LocalEmbeddings
from quarry.errors import InvalidFilters, InvalidInput, InvalidPrincipal, InvalidQuestion, RunForbidden
from tests.support.helpers import isolated_settings

pytestmark = pytest.mark.integration

NUL, SURROGATE = "a\x00b", "caf\udce9"


@pytest.fixture(scope="module")
def assistant(pg_url: str, embedder: LocalEmbeddings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Assistant]:
    """One empty corpus for the module: every input here is refused before the corpus is read."""
    settings = isolated_settings(pg_url, tmp_path_factory.mktemp("inputs"), schema=f"in_{uuid.uuid4().hex[:10]}")
    with Assistant(settings, environ={}, embedder=embedder) as opened:
        yield opened
        opened.components.db.drop_schema()


@pytest.mark.parametrize("question", [NUL, SURROGATE, 42], ids=["nul", "surrogate", "not text"])
def test_a_question_that_cannot_be_stored_is_refused_by_name(assistant: Assistant, question: Any):
    with pytest.raises(InvalidQuestion, match=r"^the question (contains|must be text)"):
        assistant.ask(question)
    assert assistant.runs() == []  # nothing ran, nothing was written


@pytest.mark.parametrize(
    "principal",
    [NUL, SURROGATE, 7, {"id": "alice", "groups": ["public", NUL]}],
    ids=["nul id", "surrogate id", "not text", "nul group"],
)
def test_a_principal_that_cannot_be_stored_is_refused_by_name(assistant: Assistant, principal: Any):
    with pytest.raises(InvalidPrincipal, match=r"^principal"):
        assistant.ask("Which team owns Ledgerline?", principal=principal)
    with pytest.raises(InvalidPrincipal, match=r"^principal"):
        assistant.chat(principal=principal)
    assert assistant.runs() == []


@pytest.mark.parametrize(
    "filters",
    [{"domains": [NUL]}, {"authors": [SURROGATE]}, {"tags": ["ok", NUL]}, {"domains": [3]}, ["domains"]],
    ids=["nul domain", "surrogate author", "nul tag", "number", "not a mapping"],
)
def test_filters_that_cannot_be_stored_are_refused_by_name(assistant: Assistant, filters: Any):
    with pytest.raises(InvalidFilters, match=r"^invalid filters: "):
        assistant.ask("Which team owns Ledgerline?", filters=filters)
    assert assistant.runs() == []


def test_a_principal_object_with_an_unstorable_group_cannot_be_built():
    with pytest.raises(ValidationError, match=r"groups\n.*'a\\x00b' contains a NUL character"):
        Principal(id="alice", groups=("public", NUL))
    assert issubclass(InvalidPrincipal, InvalidInput)


def test_the_ledger_shows_a_principal_their_own_runs_unless_the_operator_asks(assistant: Assistant):
    """Runs and spend hold everyone's questions: by default a caller sees one principal's own."""
    mine = assistant.ask("What is Ledgerline?", principal="alice")
    theirs = assistant.ask("What is Beacon?", principal="bob")
    assert assistant.runs() == [] and assistant.spend("principal") == []  # the anonymous reader asked nothing
    assert [run.id for run in assistant.runs(principal="alice")] == [mine.run_id]
    with pytest.raises(RunForbidden):
        assistant.run(theirs.run_id)
    with pytest.raises(RunForbidden):
        assistant.run(theirs.run_id, principal="alice")
    assert [row.key for row in assistant.spend("principal", principal="alice")] == ["alice"]
    assert {run.principal_id for run in assistant.runs(operator=True)} == {"alice", "bob"}
    assert {row.key for row in assistant.spend("principal", operator=True)} == {"alice", "bob"}
    assert assistant.run(theirs.run_id, operator=True).summary.principal_id == "bob"
    with pytest.raises(InvalidPrincipal, match="not both"):
        assistant.runs(principal="alice", operator=True)
