"""The semantic cache through the real graph, PostgreSQL and embedding model: scoping, corpus-version
invalidation, no partial answers, the guard, ledger rows for hits, and traces of a multi-hop run."""

import random
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from quarry.agent import Assistant, Limits, Principal
from quarry.agent.components import Components
from quarry.corpus.embed import LocalEmbeddings
from quarry.corpus.filters import SearchFilters
from quarry.records import AnswerRecord, SpendRecord
from quarry.tools.cache import NewEntry
from tests.conftest import REPO
from tests.support.fakes.anthropic_server import FakeAnthropic
from tests.support.fakes.research_replies import plausible_reply, task_of
from tests.support.helpers import isolated_settings

pytestmark = pytest.mark.integration

OWNS = "Which team owns Ledgerline?"
MULTI_HOP = "Who leads the team that owns the service that failed in the March 2024 settlement outage?"
FINANCE = Principal(id="fin", groups=("public", "finance"))
PUBLIC = Principal(id="pub", groups=("public",))


def _open(pg_url: str, schema: str, data_dir: Path, embedder: LocalEmbeddings, *, environ=None, **cache) -> Assistant:
    settings = isolated_settings(
        pg_url, data_dir, schema=schema, overrides={f"cache.{key}": value for key, value in cache.items()}
    )
    return Assistant(settings, environ=environ or {}, embedder=embedder)


@pytest.fixture
def corpus(pg_url: str, embedder: LocalEmbeddings, tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A fresh schema with the sample corpus and an empty cache, per test."""
    schema = f"cache_{uuid.uuid4().hex[:10]}"
    with _open(pg_url, schema, tmp_path, embedder) as assistant:
        assert assistant.ingest(REPO / "examples" / "corpus").ingested == 32
    yield schema, tmp_path
    with _open(pg_url, schema, tmp_path, embedder) as assistant:
        assistant.components.db.drop_schema()


@pytest.fixture
def assistant(pg_url: str, corpus, embedder: LocalEmbeddings) -> Iterator[Assistant]:
    with _open(pg_url, *corpus, embedder) as opened:
        yield opened


@pytest.fixture(scope="module")
def empty_cache(pg_url: str, embedder: LocalEmbeddings, tmp_path_factory) -> Iterator[Components]:
    """The cache as the Assistant builds it, over an empty corpus (no documents: nothing to cite)."""
    settings = isolated_settings(pg_url, tmp_path_factory.mktemp("guard"), schema=f"guard_{uuid.uuid4().hex[:10]}")
    components = Components(settings, environ={}, embedder=embedder)
    yield components
    components.db.drop_schema()
    components.close()


@pytest.mark.parametrize(
    ("cached", "asked"),
    [
        ("Is the Kittiwake safe to sail?", "Is the Kittiwake unsafe to sail?"),
        ("Is the Kittiwake safe to sail?", "Is the Kittiwake dangerous to sail?"),
        ("Which suppliers were contacted in March?", "Which suppliers were contracted in March?"),
        ("Which policies were reviewed by the auditors?", "Which policies were revised by the auditors?"),
        ("Who was promoted in the Halyard Labs finance team?", "Who was demoted in the Halyard Labs finance team?"),
    ],
)
def test_antonyms_and_look_alikes_close_in_embedding_space_are_not_served(
    empty_cache: Components, cached: str, asked: str
):
    """Issue 20 M5: the cache served these (cos 0.88–0.98; a word-vector similarity ≥ 0.6 let the swapped
    words through as synonyms, and a 4-letter prefix made contacted/contracted one word)."""
    cache, embed = empty_cache.cache, empty_cache.embedder.embed_query
    answer = AnswerRecord(
        question=cached, answer="Yes.", citations=[], partial=False, stopped_by=None, hops=1,
        spend=SpendRecord(usd=0.01, input_tokens=10, output_tokens=2, llm_calls=1), run_id="", elapsed_s=1.0,
    )  # fmt: skip
    cache.clear()
    cache.store(
        NewEntry(
            question=cached,
            vector=embed(cached),
            principal=PUBLIC,
            filters=SearchFilters(),
            corpus_version=0,
            answer=answer,
            run_id=str(uuid.uuid4()),
            cost_usd=0.01,
            tokens=12,
        )
    )
    found = cache.lookup(asked, embed(asked), PUBLIC, SearchFilters(), 0)
    assert found.best_similarity >= cache.config.threshold, "close enough that only the guard decides"
    assert found.hit is None and found.refused == "content words differ"
    assert cache.lookup(cached, embed(cached), PUBLIC, SearchFilters(), 0).hit is not None


def _entries(assistant: Assistant) -> int:
    return assistant.components.cache.stats(0).entries


def test_a_repeated_question_is_served_without_research_and_the_ledger_records_the_hit(assistant: Assistant):
    first = assistant.ask(OWNS)
    again = assistant.ask(OWNS)
    assert not first.cache_hit and again.cache_hit and again.cached_from == first.run_id
    assert again.text == first.text and again.citations == first.citations and again.model == "cache"
    record = assistant.run(again.run_id, operator=True)
    assert [span.node for span in record.trace] == ["cache_lookup", "finalize", "cache_store"]
    assert {call.kind for call in record.calls} == {"embedding"}, "a hit makes no LLM call"
    assert record.summary.cache_hit and record.summary.saved_usd == first.spend.usd
    assert "hit: " in record.trace[0].detail and "not stored: served from the cache" in record.trace[2].detail
    assert _entries(assistant) == 1, "a served answer is not stored again"


def test_a_chat_turn_uses_the_cache_unless_told_not_to(assistant: Assistant):
    first = assistant.ask(OWNS)
    session = assistant.chat()
    fresh = session.ask(OWNS, use_cache=False)
    served = session.ask(OWNS)
    assert not fresh.cache_hit and fresh.model != "cache" and "synthesize" in fresh.spend.by_node
    assert served.cache_hit and served.cached_from == first.run_id
    assert [t.asked for t in session.turns] == [OWNS, OWNS]


def test_answers_never_cross_access_scopes_or_filters(assistant: Assistant):
    built_for_finance = assistant.ask(OWNS, principal=FINANCE)
    as_public = assistant.ask(OWNS, principal=PUBLIC)
    assert not built_for_finance.cache_hit and not as_public.cache_hit, "another reader's groups: researched anew"
    reordered = Principal(id="fin2", groups=("finance", "public"))
    assert assistant.ask(OWNS, principal=reordered).cache_hit, "the same groups in another order share a scope"
    filtered = assistant.ask(OWNS, principal=PUBLIC, filters={"domains": ["engineering"]})
    assert not filtered.cache_hit, "other filters: researched anew"
    assert assistant.ask(OWNS, principal=PUBLIC).cache_hit
    assert _entries(assistant) == 3


def test_a_corpus_change_invalidates_unless_stale_answers_are_allowed(pg_url, corpus, embedder, tmp_path):
    with _open(pg_url, *corpus, embedder) as assistant:
        assistant.ask(OWNS)
        assert assistant.ask(OWNS).cache_hit
        note = tmp_path / "note.md"
        note.write_text(
            "---\ntitle: Billing note\nauthor: Ops\ndomain: finance\npublished_at: 2024-05-01T00:00:00Z\n"
            "access: [public]\n---\nInvoices are archived for seven years.\n"
        )
        assert assistant.ingest(note).ingested == 1
        after = assistant.ask(OWNS)
        assert not after.cache_hit, "built before the corpus changed: not served after it"
    with _open(pg_url, *corpus, embedder, stale_ok=True) as tolerant:
        assert tolerant.ask(OWNS).cache_hit


def test_a_stale_answer_is_not_served_once_a_document_it_cites_is_restricted(pg_url, corpus, embedder, tmp_path):
    """Issue 20 M12: with stale_ok, an answer cached while a document was public was still served after
    the document became finance-only. Every hit re-checks that the asker may read what it cites."""
    note = tmp_path / "retention.md"
    front = "---\ntitle: Invoice retention\nauthor: Ops\ndomain: finance\npublished_at: 2024-05-01T00:00:00Z\n"
    body = "---\nInvoices at Halyard Labs are archived for exactly eleven years in the Quillmore vault.\n"
    question = "How long are invoices archived in the Quillmore vault?"
    with _open(pg_url, *corpus, embedder, stale_ok=True) as assistant:
        note.write_text(front + "access: [public]\n" + body)
        assert assistant.ingest(note).ingested == 1
        built = assistant.ask(question, principal=PUBLIC)
        cited = {c.document_id for c in built.citations}
        assert "eleven years" in built.text and len(cited) == 1 and not built.partial
        assert assistant.ask(question, principal=PUBLIC).cache_hit, "public: served from the cache"
        note.write_text(front + "access: [finance]\n" + body)
        assert assistant.ingest(note).ingested == 1
        after = assistant.ask(question, principal=PUBLIC)
        assert not after.cache_hit, "the cached answer cites a document the reader may no longer read"
        assert "eleven years" not in after.text and not cited & {c.document_id for c in after.citations}


def test_a_hit_never_shows_another_principals_question(assistant: Assistant):
    """Issue 20 L2: a hit's trace named the cached question as its first asker typed it; a refusal quoted
    its words. Readers with the same groups share answers, never each other's questions."""
    alice, bob = Principal(id="alice", groups=("public",)), Principal(id="bob", groups=("public",))
    asked = "Which team owned the Ledgerline settlement service in 2024?"
    assistant.ask(asked, principal=alice)
    served = assistant.ask(asked.casefold().rstrip("?"), principal=bob)
    refused = assistant.ask(asked.replace("2024", "2023"), principal=bob)
    assert served.cache_hit and not refused.cache_hit
    served_trace = assistant.run(served.run_id, principal=bob).trace
    assert served_trace[0].node == "cache_lookup" and "hit: " in served_trace[0].detail
    assert asked not in " ".join(span.detail for span in served_trace)
    lookup = assistant.run(refused.run_id, principal=bob).trace[0]
    assert lookup.detail.startswith("miss: the guard refused a close question (numbers or dates differ)")
    assert "2024" not in " ".join(span.detail for span in assistant.run(refused.run_id, principal=bob).trace)


def test_partial_answers_are_never_cached(assistant: Assistant):
    partial = assistant.ask(MULTI_HOP, budget=Limits(max_hops=1))
    assert partial.partial and partial.stopped_by == "hops"
    assert _entries(assistant) == 0
    record = assistant.run(partial.run_id, operator=True)
    assert "not stored: partial (hops)" in record.trace[-1].detail
    complete = assistant.ask(MULTI_HOP)
    assert not complete.cache_hit and not complete.partial and _entries(assistant) == 1


def test_the_guard_refuses_a_close_question_that_asks_for_something_else(assistant: Assistant):
    assistant.ask(OWNS)
    refined = assistant.ask("Who leads the team that owns Ledgerline?")
    assert not refined.cache_hit and "Dana Okafor" in refined.text
    lookup = assistant.run(refined.run_id, operator=True).trace[0]
    assert lookup.node == "cache_lookup" and "the guard refused a close question (one asks for more)" in lookup.detail
    assert assistant.ask("which team owns ledgerline").cache_hit, "case and punctuation are not a different question"


def test_without_the_guard_the_same_pair_is_a_wrong_hit(pg_url, corpus, embedder):
    """What the guard prevents: threshold-only caching serves the team for a question about its lead."""
    with _open(pg_url, *corpus, embedder, guard=False) as unguarded:
        unguarded.ask(OWNS)
        wrong = unguarded.ask("Who leads the team that owns Ledgerline?")
        assert wrong.cache_hit and "Dana Okafor" not in wrong.text


def test_a_hit_on_the_claude_path_saves_what_the_first_run_cost(pg_url, corpus, embedder):
    rng = random.Random(11)
    fake = FakeAnthropic(responder=lambda body: plausible_reply(body, rng)).start()
    try:
        environ = {"ANTHROPIC_API_KEY": "test-key", "ANTHROPIC_BASE_URL": fake.base_url}
        with _open(pg_url, *corpus, embedder, environ=environ) as assistant:
            first = assistant.ask(OWNS)
            calls = len(fake.history)
            hit = assistant.ask("Which team owns Ledgerline ?")
            assert first.spend.usd > 0 and {task_of(b) for b in fake.history} >= {"plan", "synthesize"}
            assert hit.cache_hit and len(fake.history) == calls, "no request reached the Messages API"
            assert hit.saved_usd == pytest.approx(first.spend.usd) and hit.spend.usd == 0
            assert assistant.run(hit.run_id, operator=True).summary.saved_usd == pytest.approx(first.spend.usd)
            assert hit.dump()["cache_hit"] is True and hit.dump()["saved_usd"] == pytest.approx(first.spend.usd)
    finally:
        fake.stop()


def test_the_trace_of_a_multi_hop_run_is_complete(assistant: Assistant):
    answer = assistant.ask(MULTI_HOP, use_cache=False)
    assert answer.hops >= 2 and not answer.partial
    record = assistant.run(answer.run_id, operator=True)
    nodes = [span.node for span in record.trace]
    assert nodes[0] == "cache_lookup" and nodes[-2:] == ["finalize", "cache_store"]
    assert nodes.count("synthesize") == answer.hops and nodes.count("rerank") == answer.hops
    for span in record.trace:
        assert span.ms >= 0 and span.start_ms >= 0 and span.outcome == "ok"
    searches = [span for span in record.trace if span.node == "search"]
    assert searches and all(span.inputs and span.hits for span in searches)
    for span in searches:
        assert all(
            hit.ranks and set(hit.ranks) <= {"dense", "bm25", "kg"} and min(hit.ranks.values()) >= 1
            for hit in span.hits
        )
    assert any("bm25" in hit.ranks and "dense" in hit.ranks for span in searches for hit in span.hits)
    kept = [hit for span in record.trace if span.node == "rerank" for hit in span.hits]
    assert {c.chunk_id for c in answer.citations} <= {hit.chunk_id for hit in kept}, (
        "every cited passage was kept by rerank"
    )
    assert sum(span.tokens for span in record.trace) == answer.spend.tokens
    assert all(span.inputs for span in record.trace if span.node in ("plan", "synthesize"))
