"""Access control end to end on the sample corpus (which has restricted documents): through the
Python API with the semantic cache on, no surface a reader can reach shows a restricted document."""

import uuid
from collections.abc import Iterator

import pytest

from quarry.agent import Assistant, Principal, RunForbidden
from quarry.corpus.embed import LocalEmbeddings
from tests.conftest import REPO
from tests.support.helpers import isolated_settings
from tests.support.leak_probe import INSIDER, READER, SAMPLE_PROBES, probe_leaks

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module", params=[False, True], ids=["sql-predicate", "plus-row-security"])
def assistant(
    request, pg_url: str, embedder: LocalEmbeddings, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Assistant]:
    """Once with the access predicate in every retriever's SQL alone, once with PostgreSQL's row-level
    security enforcing it too (database.row_security)."""
    settings = isolated_settings(
        pg_url,
        tmp_path_factory.mktemp("acl"),
        schema=f"acl_{uuid.uuid4().hex[:10]}",
        overrides={"cache.enabled": True, "database.row_security": request.param},
    )
    opened = Assistant(settings, environ={}, embedder=embedder)
    assert opened.ingest(REPO / "examples" / "corpus").refused == []
    yield opened
    opened.components.db.drop_schema()
    opened.close()


def test_no_surface_shows_a_reader_what_only_insiders_may_read(assistant: Assistant):
    report = probe_leaks(assistant, SAMPLE_PROBES, reader=READER, insider=INSIDER)
    assert report.leaks == 0, report.details
    assert report.reachable >= 3, "the insider must find the secrets, or the probe proves nothing"
    assert report.checks >= len(SAMPLE_PROBES) * 6


def test_the_insiders_cached_answer_is_not_served_to_the_reader(assistant: Assistant):
    question = SAMPLE_PROBES[0].question
    assistant.components.cache.clear()
    assistant.ask(question, principal=INSIDER)
    again = assistant.ask(question, principal=INSIDER)
    assert again.cache_hit, "same scope: the cache serves it"
    assert not assistant.ask(question, principal=READER).cache_hit
    # The reader may not read the source, so their answer says it did not answer, and such answers
    # are never cached.
    second = assistant.ask(question, principal=READER)
    assert second.answered is False and not second.cache_hit


def test_a_reader_sees_only_their_own_runs(assistant: Assistant):
    mine = assistant.ask("Which team owns Ledgerline?", principal=READER, use_cache=False)
    theirs = assistant.ask("Which team owns Ledgerline?", principal=INSIDER, use_cache=False)
    assert {r.principal_id for r in assistant.runs(principal=READER, limit=100)} == {READER.id}
    assert assistant.run(mine.run_id, principal=READER).summary.id == mine.run_id
    with pytest.raises(RunForbidden, match="belongs to another principal"):
        assistant.run(theirs.run_id, principal=READER)
    assert assistant.run(theirs.run_id, operator=True).summary.principal_id == INSIDER.id, "the operator view is whole"


def test_evidence_a_reader_lost_access_to_is_redacted_from_their_old_trace(assistant: Assistant):
    insider = Principal(id="former-insider", groups=INSIDER.groups)
    answer = assistant.ask(SAMPLE_PROBES[0].question, principal=insider, use_cache=False)
    assert "Vaultwright" in repr(assistant.run(answer.run_id, principal=insider))
    demoted = Principal(id="former-insider", groups=("public",))
    record = assistant.run(answer.run_id, principal=demoted)
    assert "Vaultwright" not in repr(record)
    assert record.answer["answer"].startswith("[restricted]") and record.answer["citations"] == []
    hits = [h for span in record.trace for h in span.hits]
    assert any(h.title == "[restricted]" for h in hits)
    assert all(h.title != "Key management review 2024" for h in hits)
