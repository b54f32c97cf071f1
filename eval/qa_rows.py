"""One scored question of `quarry eval qa`: built from a finished run, one line of answers.jsonl.

The file is appended and flushed as each question finishes, so an interrupted run loses nothing
finished and `--resume` skips the ids already there.
"""

import json
from dataclasses import MISSING, asdict, dataclass, field, fields
from pathlib import Path
from typing import IO, Any

from quarry.errors import DatasetError
from quarry.eval.datasets import EvalQuery
from quarry.eval.qa_metrics import (
    budget_violations,
    citation_precision,
    contains_answer,
    evidence_recall,
    exact_match,
    f1_score,
    lead_sentence,
)
from quarry.graph.answer import Answer
from quarry.graph.budget.limits import Limits


@dataclass(frozen=True)
class QaRow:
    id: str
    question: str
    gold_answers: list[str | list[str]]
    """Aliases; a list is the parts of one compound answer."""
    gold_sources: list[str]
    """Gold document ids (HotpotQA supporting paragraphs, BEIR qrels, QA JSONL gold_sources resolved)."""
    answer: str
    citations: list[str]
    """Document id of each citation, in citation order."""
    evidence_sources: list[str]
    partial: bool
    stopped_by: str | None
    hops: int
    usd: float
    input_tokens: int
    output_tokens: int
    latency_s: float
    """Wall time the caller waited for the answer (the deadline check uses this)."""
    em: float | None
    f1: float | None
    contains: float | None
    evidence_recall: float | None
    """Kept recall: share of gold documents cited or kept as evidence."""
    citation_precision: float | None
    budget_violations: dict[str, bool]
    cache_hit: bool
    run_id: str
    model: str = ""
    stop_detail: str = ""
    spend_by_node: dict[str, dict[str, float]] = field(default_factory=dict)
    cited_recall: float | None = None
    """Share of gold documents the answer cites."""
    answered: bool | str | None = None
    """The answer's own verdict: True, "partly" or False (None in rows written before the field)."""
    lead: str = ""
    """The answer's first sentence without markers, which exact match and F1 score."""

    @property
    def tokens(self) -> int:
        return self.input_tokens + self.output_tokens

    @property
    def violated(self) -> bool:
        return any(self.budget_violations.values())

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "tokens": self.tokens}

    @classmethod
    def from_json(cls, data: Any) -> "QaRow":
        if not isinstance(data, dict):
            raise ValueError("not a JSON object")
        missing = [
            f.name for f in fields(cls) if f.default is MISSING and f.default_factory is MISSING and f.name not in data
        ]
        if missing:
            raise ValueError(f"missing field '{missing[0]}'")
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


def score(query: EvalQuery, answer: Answer, *, latency_s: float, limits: Limits) -> QaRow:
    """Score one finished run against its gold answers and sources."""
    total = answer.spend.total()
    cited = [c.document_id for c in answer.citations]
    gold = list(query.relevant)
    lead = lead_sentence(answer.text)
    return QaRow(
        id=query.id,
        question=query.text,
        gold_answers=[a if isinstance(a, str) else list(a) for a in query.answers],
        gold_sources=gold,
        answer=answer.text,
        citations=cited,
        evidence_sources=list(answer.evidence_sources),
        partial=answer.partial,
        stopped_by=answer.stopped_by,
        hops=answer.hops,
        usd=total.usd,
        input_tokens=total.input_tokens,
        output_tokens=total.output_tokens,
        latency_s=round(latency_s, 4),
        em=exact_match(lead, query.answers),
        f1=f1_score(lead, query.answers),
        contains=contains_answer(answer.text, query.answers),
        evidence_recall=evidence_recall(gold, [*cited, *answer.evidence_sources]),
        cited_recall=evidence_recall(gold, cited),
        answered=answer.answered,
        lead=lead,
        citation_precision=citation_precision(gold, cited),
        budget_violations=budget_violations(
            limits, usd=total.usd, tokens=total.tokens, hops=answer.hops, seconds=latency_s
        ).as_dict(),
        cache_hit=answer.cache_hit,
        run_id=answer.run_id,
        model=answer.model,
        stop_detail=answer.stop_detail,
        spend_by_node={node: spent.dump() for node, spent in answer.record().spend.by_node.items()},
    )


def append(handle: IO[str], row: QaRow) -> None:
    handle.write(json.dumps(row.to_json(), default=str) + "\n")
    handle.flush()


@dataclass(frozen=True)
class Existing:
    """What an earlier run left in answers.jsonl."""

    rows: list[QaRow]
    torn_line: int | None = None
    """A last line cut short (the process died mid-write): dropped when the file is next appended to."""
    intact_text: str = ""


def read_rows(path: Path) -> Existing:
    """The rows of an answers.jsonl; a malformed line other than a torn last one is an error naming it."""
    if not path.exists():
        return Existing([])
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise DatasetError(f"cannot read '{path}': {exc}; run without --resume to start over") from None
    lines = text.split("\n")
    rows: list[QaRow] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            rows.append(QaRow.from_json(json.loads(line)))
        except (json.JSONDecodeError, TypeError, ValueError) as exc:
            if number == len(lines):  # no newline after it: the write never finished
                return Existing(rows, number, text[: len(text) - len(line)])
            raise DatasetError(
                f"{path}:{number}: not an answers.jsonl row ({exc}); remove the line or run without --resume"
            ) from None
    return Existing(rows, None, text)


def open_for_append(path: Path, existing: Existing) -> IO[str]:
    if existing.torn_line is not None:
        path.write_text(existing.intact_text, encoding="utf-8")
    return path.open("a", encoding="utf-8")
