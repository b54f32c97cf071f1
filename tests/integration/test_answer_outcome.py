"""What an answer says it is, through the real research loop on the sample corpus: answered / partly /
not, the parts still open, sentence-level quotes, the Markdown report, no junk hops once every part
is answered, and a run that never searched saying why (a refused API key, against the real SDK)."""

import asyncio
from collections.abc import Iterator

import pytest

from quarry.agent import Assistant
from quarry.graph.engine import ResearchRequest, RunResult
from tests.support.fakes.anthropic_server import Fail, FakeAnthropic

pytestmark = pytest.mark.integration

COMPOUND = "Who leads the team that owns Ledgerline, and where is that team based?"
MISSING = "Who leads the team that owns Heron, and where is that team based?"


def ask(components, question: str, **options) -> RunResult:
    return asyncio.run(components.engine.run(ResearchRequest(question=question, **options)))


def test_a_compound_question_answered_in_full_leads_with_the_answer_and_stops_searching(sample_components):
    result = ask(sample_components, COMPOUND)
    answer = result.answer
    assert answer.answered is True and answer.unanswered == () and not answer.partial
    assert answer.text.startswith("Dana Okafor; Frankfurt [1].")
    assert answer.hops == 1, "every part answered after the first hop: no further searches"
    assert [s.node for s in result.trace].count("search") == 3  # the question and its two clauses, once


def test_each_citation_quotes_its_supporting_sentence_inside_the_chunk(sample_components):
    answer = ask(sample_components, "Which team owns Keel?").answer
    [citation] = answer.citations
    document = sample_components.store.document(citation.document_id)
    assert citation.start_char <= citation.quote_start < citation.quote_end <= citation.end_char
    assert document is not None and document.body[citation.quote_start : citation.quote_end] == citation.quote
    assert citation.quote == "The Data Storage team owns Keel.", "the sentence, not the heading or the whole chunk"
    record = answer.dump()["citations"][0]
    assert (record["quote_start"], record["quote_end"], record["quote"]) == (
        citation.quote_start,
        citation.quote_end,
        citation.quote,
    )


def test_an_unanswerable_question_says_so_and_lists_every_open_part(sample_components):
    answer = ask(sample_components, MISSING).answer
    assert answer.answered is False and not answer.partial and answer.stopped_by is None
    assert answer.unanswered == ("Who leads the team that owns Heron", "where is that team based")
    assert answer.text.startswith("The evidence found does not answer the question.")
    assert answer.dump()["answered"] is False


def test_a_part_left_open_is_searched_for_and_reported_partly(sample_components):
    question = "Which team owns Keel, and when was Heron retired?"
    answer = ask(sample_components, question).answer
    assert answer.answered == "partly" and answer.unanswered == ("when was Heron retired",)
    assert answer.hops >= 2, "the open part was searched for again instead of ending 'complete'"
    assert answer.text.startswith("Data Storage [1].")


def test_the_markdown_report_has_question_answer_sources_quotes_and_budget(sample_components):
    answer = ask(sample_components, COMPOUND).answer
    report = answer.to_markdown()
    assert report.startswith(f"# {COMPOUND}\n\n## Answer\n\nDana Okafor; Frankfurt [1].")
    assert "**Outcome:** answered; finished within its limits after 1 hop(s)." in report
    assert "## Sources\n\n1. **Payments Core team** — `" in report
    citation = answer.citations[0]
    assert f"characters {citation.quote_start}–{citation.quote_end}" in report
    assert "   > Payments Core owns Ledgerline" in report and report.rstrip().endswith(f"run {answer.run_id}")


@pytest.fixture
def refusing() -> Iterator[FakeAnthropic]:
    server = FakeAnthropic(responder=lambda body: Fail(401, message="invalid x-api-key")).start()
    yield server
    server.stop()


def test_a_refused_api_key_is_named_and_the_run_says_it_never_searched(sample_components, refusing):
    environ = {"ANTHROPIC_API_KEY": "bogus", "ANTHROPIC_BASE_URL": refusing.base_url}
    with Assistant(sample_components.settings, environ=environ, embedder=sample_components.embedder) as assistant:
        answer = assistant.ask("Which team owns Ledgerline?", use_cache=False)
    assert answer.searched is False and answer.answered is False and answer.stopped_by == "error"
    assert answer.text.startswith("No search was run: ")
    assert "authentication failed: the API key was refused" in answer.text and "ANTHROPIC_API_KEY" in answer.text
    assert answer.citations == () and answer.hops == 0


def test_unanswered_and_partly_answered_answers_are_never_cached(sample_components):
    settings = sample_components.settings
    cached = settings.model_copy(update={"cache": settings.cache.model_copy(update={"enabled": True})})
    with Assistant(cached, environ={}, embedder=sample_components.embedder) as assistant:
        for question in (MISSING, "Which team owns Keel, and when was Heron retired?"):
            first = assistant.ask(question)
            again = assistant.ask(question)
            assert first.answered is not True and not again.cache_hit
            assert assistant.run(first.run_id).trace[-1].detail.startswith("not stored: ")
        answered = assistant.ask(COMPOUND)
        assert answered.answered is True and assistant.ask(COMPOUND).cache_hit
        assistant.components.cache.clear()
