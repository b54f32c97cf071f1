"""The real LangGraph research loop on the sample corpus with the offline model: hops, citations,
budgets, access control and the ledger in PostgreSQL."""

import asyncio

import pytest

from quarry.corpus.filters import Principal, SearchFilters
from quarry.errors import InvalidQuestion
from quarry.graph.budget.limits import Limits
from quarry.graph.engine import ResearchRequest, RunResult

MULTI_HOP = "Who leads the team that owns the service that failed in the March 2024 settlement outage?"


def ask(components, question: str, **options) -> RunResult:
    return asyncio.run(components.engine.run(ResearchRequest(question=question, **options)))


def sources(answer) -> set[str]:
    return {c.source.rsplit("/", 1)[-1] for c in answer.citations}


def test_multi_hop_question_needs_two_hops_and_cites_both_documents(sample_components):
    result = ask(sample_components, MULTI_HOP)
    answer = result.answer
    assert answer.hops >= 2 and not answer.partial and answer.stopped_by is None
    assert {"ledgerline.md", "payments-core.md"} <= sources(answer)
    assert "Dana Okafor" in answer.text
    for citation in answer.citations:
        assert f"[{citation.number}]" in answer.text and citation.text and citation.end_char > citation.start_char
    nodes = [span.node for span in result.trace]
    assert nodes[:3] == ["cache_lookup", "plan", "search"] and nodes[-2:] == ["finalize", "cache_store"]
    assert nodes.count("synthesize") == answer.hops and nodes.count("reflect") == answer.hops
    assert answer.spend.by_node["synthesize"].calls == answer.hops
    assert answer.spend.usd == 0 and answer.spend.tokens > 0


def test_ledger_rows_match_the_answer(sample_components):
    answer = ask(sample_components, "Which team owns Ledgerline?").answer
    with sample_components.db.transaction() as conn:
        run = conn.execute("SELECT * FROM runs WHERE id = %s", (answer.run_id,)).fetchone()
        calls = conn.execute("SELECT * FROM spend WHERE run_id = %s ORDER BY id", (answer.run_id,)).fetchall()
    assert run["status"] == "complete" and run["stopped_by"] is None and run["answer"] == answer.text
    assert run["principal_groups"] == ["public"] and run["limits"]["max_hops"] == 3
    assert [node["node"] for node in run["trace"]][-2:] == ["finalize", "cache_store"]
    llm = [c for c in calls if c["kind"] == "llm"]
    assert len(llm) == answer.spend.total().calls and {c["model"] for c in llm} == {"extractive"}
    assert sum(c["input_tokens"] for c in llm) == answer.spend.total().input_tokens == run["input_tokens"]
    assert sum(c["output_tokens"] for c in llm) == answer.spend.total().output_tokens == run["output_tokens"]
    embeddings = [c for c in calls if c["kind"] == "embedding"]
    assert len(embeddings) == [s["node"] for s in run["trace"]].count("search") and all(
        c["usd"] == 0 for c in embeddings
    )


def test_max_hops_stops_the_loop_with_a_partial_answer(sample_components):
    answer = ask(sample_components, MULTI_HOP, budget=Limits(max_hops=1)).answer
    assert answer.partial and answer.stopped_by == "hops" and answer.hops == 1
    assert "Ledgerline" in answer.text and answer.citations, "the best answer so far is still given, cited"
    assert "still open" in answer.stop_detail


def test_a_token_ceiling_stops_the_run_before_it_is_passed(sample_components):
    answer = ask(sample_components, MULTI_HOP, budget=Limits(max_tokens=600)).answer
    assert answer.partial and answer.stopped_by == "tokens"
    assert answer.spend.tokens <= 600
    assert answer.text.startswith("No answer was drafted before the tokens limit") and answer.citations


def test_restricted_documents_are_never_evidence_for_a_reader_outside_their_group(sample_components):
    question = "Which vendor supplies the hardware security modules for Ledgerline's signing keys?"
    public = ask(sample_components, question).answer
    assert "Vaultwright" not in public.text and "key-management-review.md" not in sources(public)
    security = ask(sample_components, question, principal=Principal(id="ana", groups=("security",))).answer
    assert "Vaultwright" in security.text and "key-management-review.md" in sources(security)


def test_filters_narrow_the_evidence(sample_components):
    answer = ask(
        sample_components, "Who leads the Payments Core team?", filters=SearchFilters(domains=("teams",))
    ).answer
    assert answer.citations and all("/teams/" in c.source for c in answer.citations)


def test_an_empty_question_is_refused_before_anything_is_stored(sample_components):
    with sample_components.db.transaction() as conn:
        before = conn.execute("SELECT count(*) AS n FROM runs").fetchone()["n"]
    with pytest.raises(InvalidQuestion, match="the question is empty"):
        ask(sample_components, "   ")
    with sample_components.db.transaction() as conn:
        assert conn.execute("SELECT count(*) AS n FROM runs").fetchone()["n"] == before
