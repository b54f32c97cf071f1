"""Boundary records: keyword-only values, and one dump/load pair with a schema version for the answer
JSON and the trace spans."""

import json
from dataclasses import replace
from types import MappingProxyType

import pytest
from pydantic import ValidationError

from quarry.graph.answer import Answer, Citation, CitationStats, ImageRef
from quarry.graph.budget.ledger import CallRecord, RunClosed, RunOpened
from quarry.graph.budget.spend import NodeSpend, Spend
from quarry.graph.telemetry import FinishedRun
from quarry.graph.trace import Span, SpanHit
from quarry.records import AnswerRecord

# The keys `quarry ask --json` printed before the schema was versioned; they stay.
LEGACY_KEYS = {
    "question",
    "asked_as",
    "answer",
    "citations",
    "partial",
    "stopped_by",
    "stop_detail",
    "hops",
    "gaps",
    "spend",
    "citation_check",
    "unsupported_sentences",
    "model",
    "evidence_sources",
    "cache_hit",
    "saved_usd",
    "cached_from",
    "run_id",
    "elapsed_s",
}
OUTCOME_KEYS = {"answered", "unanswered", "searched"}


def an_answer() -> Answer:
    citation = Citation(
        number=1,
        document_id="ledgerline",
        chunk_id=7,
        title="Ledgerline",
        source="docs/ledgerline.md",
        start_char=10,
        end_char=80,
        text="Ledgerline is owned by Payments Core.",
        support=0.75,
        image=ImageRef(name="arch.png", mime="image/png", blob_key="ab" * 32, path="/b/ab", width=640, height=480),
    )
    return Answer(
        question="Which team owns Ledgerline?",
        text="Payments Core owns it [1].",
        citations=(citation,),
        partial=True,
        stopped_by="hops",
        stop_detail="3 of 3 hops used",
        hops=3,
        spend=Spend(
            MappingProxyType(
                {
                    "plan": NodeSpend(input_tokens=120, output_tokens=30, usd=0.001, calls=1),
                    "synthesize": NodeSpend(input_tokens=900, output_tokens=200, usd=0.01, calls=1),
                }
            )
        ),
        run_id="7f6c0e1e-0000-4000-8000-000000000001",
        elapsed_s=1.25,
        gaps=("when it changed hands",),
        citation_stats=CitationStats(kept=1, unresolved=1, unsupported=0, flagged_sentences=0),
        unsupported_sentences=("An unsupported sentence.",),
        model="claude-haiku",
        asked_as="who owns it?",
        evidence_sources=("ledgerline", "teams"),
        answered="partly",
        unanswered=("when it changed hands",),
    )


def test_a_citation_carries_its_quote_inside_the_chunk_and_old_records_quote_the_chunk():
    quoted = replace(an_answer().citations[0], quote_start=12, quote_end=30, quote="dgerline is owned")
    record = quoted.record().dump()
    assert (record["quote_start"], record["quote_end"], record["quote"]) == (12, 30, "dgerline is owned")
    legacy = {k: v for k, v in record.items() if not k.startswith("quote")}
    old = Citation.load(legacy)
    assert (old.quote_start, old.quote_end, old.quote) == (10, 80, "Ledgerline is owned by Payments Core.")
    dumped = an_answer().dump()
    assert dumped["answered"] == "partly" and dumped["unanswered"] == ["when it changed hands"]
    assert Answer.load(dumped).answered == "partly"


def test_an_answer_survives_its_json_round_trip():
    answer = an_answer()
    text = json.dumps(answer.dump())
    assert Answer.load(json.loads(text)) == answer


def test_the_answer_json_keeps_its_keys_and_gains_a_schema_version():
    dumped = an_answer().dump()
    assert set(dumped) == LEGACY_KEYS | OUTCOME_KEYS | {"schema_version"} and dumped["schema_version"] == 1
    assert dumped["spend"] == {
        "usd": pytest.approx(0.011),
        "input_tokens": 1020,
        "output_tokens": 230,
        "llm_calls": 2,
        "by_node": {
            "plan": {"input_tokens": 120, "output_tokens": 30, "usd": 0.001, "calls": 1},
            "synthesize": {"input_tokens": 900, "output_tokens": 200, "usd": 0.01, "calls": 1},
        },
    }
    assert dumped["citations"][0]["image"]["name"] == "arch.png"
    assert dumped["citation_check"] == {"kept": 1, "unresolved": 1, "unsupported": 0, "flagged_sentences": 0}


def test_an_answer_stored_before_versioning_is_version_1():
    legacy = {key: value for key, value in an_answer().dump().items() if key != "schema_version"}
    assert AnswerRecord.model_validate(legacy).schema_version == 1
    assert Answer.load(legacy) == an_answer()


@pytest.mark.parametrize(
    "change",
    [{"schema_version": 2}, {"surprise": True}, {"hops": "three"}, {"stopped_by": "boredom"}],
    ids=["newer version", "unknown key", "wrong type", "unknown stop reason"],
)
def test_a_record_this_version_cannot_read_is_refused(change: dict):
    with pytest.raises(ValidationError):
        Answer.load({**an_answer().dump(), **change})


def test_a_span_survives_its_json_round_trip():
    span = Span(
        node="search",
        start_ms=12.5,
        ms=40.0,
        outcome="ok",
        detail="3 hits",
        tokens=5,
        model_ms=10.0,
        retrieval_ms=20.0,
        inputs="Ledgerline owner",
        hits=(SpanHit(document_id="ledgerline", chunk_id=7, title="Ledgerline", score=0.9, ranks={"dense": 1}),),
    )
    dumped = span.dump()
    assert dumped["schema_version"] == 1
    assert Span.load(json.loads(json.dumps(dumped))) == span


def test_a_span_stored_before_versioning_loads():
    stored = {"node": "plan", "start_ms": 0.0, "ms": 3.0, "outcome": "skipped", "detail": "", "tokens": 0, "usd": 0.0}
    assert Span.load(stored) == Span(node="plan", start_ms=0.0, ms=3.0, outcome="skipped")


@pytest.mark.parametrize("record", [CallRecord, RunOpened, RunClosed, Span, FinishedRun, Answer, Citation])
def test_wide_records_are_keyword_only_and_frozen(record: type):
    with pytest.raises(TypeError, match="positional"):
        record("a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l", "m", "n", "o")
    assert record.__dataclass_params__.frozen and hasattr(record, "__slots__")
