"""`quarry eval qa`: batch question answering through the research loop, scored and reported.

Every input is checked before anything is written (dataset, gold sources, budgets, resume
compatibility); then the dataset's documents go into a corpus of their own, each question runs
through the research engine (`Engine.run`) under its limits (a bounded number at once, on one event loop), each
finished question is appended to answers.jsonl, and the report covers every row there.
"""

import asyncio
import hashlib
import json
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from quarry.agent.cli.progress import StageProgress
from quarry.agent.settings import Settings
from quarry.corpus.filters import Principal
from quarry.corpus.ingest import IngestEvent
from quarry.errors import DatasetError, RunMismatch
from quarry.eval.corpus_loader import (
    DocumentsFolder,
    corpus_schema,
    dataset_documents,
    read_documents_folder,
    sliced_folder,
)
from quarry.eval.datasets import EvalDataset, EvalQuery, detect_format, load_qa_dataset, sliced
from quarry.eval.qa_plots import write_plots
from quarry.eval.qa_report import RunInfo, summarize, write_report
from quarry.eval.qa_rows import Existing, QaRow, append, open_for_append, read_rows, score
from quarry.graph.budget.limits import Limits

if TYPE_CHECKING:
    from quarry.agent.components import Components
    from quarry.graph.engine import Engine

PRINCIPAL = Principal(id="eval", groups=("public",))
ANSWERS, RUN_INFO = "answers.jsonl", "run.json"


@dataclass(frozen=True)
class QaOptions:
    dataset: Path
    out_dir: Path
    limits: Limits
    limit: int | None = None
    concurrency: int = 4
    resume: bool = False
    corpus: str | None = None
    documents: Path | None = None
    """Folder of Quarry documents for a QA JSONL set (which has none of its own)."""
    max_documents: int | None = None
    quiet: bool = False
    use_cache: bool = True
    """False: every question is researched afresh (a re-run is not served from the semantic cache)."""


@dataclass(frozen=True)
class _Plan:
    dataset: EvalDataset
    folder: DocumentsFolder | None
    info: RunInfo
    existing: Existing
    pending: list[EvalQuery]


def run_qa_eval(settings: Settings, options: QaOptions) -> dict[str, Any]:
    """Answer and score every pending question, then report on all rows; returns the report."""
    plan = prepare(settings, options)
    from quarry.agent.components import Components  # torch and the models: only once the input is known to be good

    notes = [f"principal 'eval' (groups: public); {plan.info.documents} documents in corpus '{plan.info.corpus}'"]
    if plan.existing.rows:
        notes.append(f"resumed: {len(plan.existing.rows)} question(s) answered by earlier runs were skipped")
    if plan.pending:
        settings = settings.model_copy(
            update={"database": settings.database.model_copy(update={"schema_name": plan.info.corpus})}
        )
        with Components(settings) as components:
            notes += _ingest(components, plan, options.quiet)
            notes += _warm(components)
            notes.append(
                f"model: {'Claude' if components.models.online else 'offline extractive'}; concurrency {options.concurrency}"
            )
            with _open_answers(options, plan) as handle:
                asyncio.run(_answer_all(components.engine, plan.pending, options, handle))
    else:
        _say(f"all {len(plan.existing.rows)} questions already answered in {options.out_dir / ANSWERS}; reporting only")
    rows = read_rows(options.out_dir / ANSWERS).rows
    summary = summarize(rows, plan.info, notes)
    table = write_report(options.out_dir, summary)
    plots = write_plots(options.out_dir, rows, summary)
    print(table, end="")
    print(
        f"\nWritten to {options.out_dir.resolve()}: {ANSWERS}, report.json, report.md, "
        + ", ".join(p.name for p in plots)
    )
    return summary


def prepare(settings: Settings, options: QaOptions) -> _Plan:
    """Read and check everything; raises DatasetError or RunMismatch and writes nothing."""
    path = options.dataset
    kind = detect_format(path)
    folder: DocumentsFolder | None = None
    if options.documents is not None:
        if kind != "qa-jsonl":
            raise DatasetError(
                f"--documents is for QA JSONL sets; '{path}' is a {kind} dataset with documents of its own"
            )
        folder = read_documents_folder(options.documents, path, max_bytes=settings.ingest.max_document_bytes)
    dataset = load_qa_dataset(path, limit=options.limit, resolve_source=folder.resolve if folder else None)
    if not dataset.queries:
        raise DatasetError(
            f"'{path}' has no questions to evaluate"
            + (" (no query has a relevant document in qrels)" if kind == "beir" else "")
        )
    from quarry.errors import InvalidQuestion
    from quarry.graph.engine import validate_question

    for query in dataset.queries:
        try:
            validate_question(query.text)
        except InvalidQuestion as exc:
            raise DatasetError(f"{path}: question '{query.id}': {exc}") from None
    if options.max_documents:
        if folder is not None:
            folder = sliced_folder(folder, {d for q in dataset.queries for d in q.relevant}, options.max_documents)
            dataset = EvalDataset(f"{dataset.name}-{len(folder.documents)}", dataset.format, [], dataset.queries)
        else:
            dataset = sliced(dataset, options.max_documents)
    info = RunInfo(
        dataset=dataset.name,
        path=str(path.resolve()),
        format=dataset.format,
        fingerprint=_fingerprint(path, kind),
        corpus=corpus_schema(options.corpus or dataset.name),
        documents=len(folder.documents) if folder else sum(1 for d in dataset.documents if d.text.strip()),
        limits=options.limits.model_dump(mode="json"),
        documents_folder=str(options.documents.resolve()) if options.documents else None,
        max_documents=options.max_documents,
        concurrency=options.concurrency,
    )
    existing = _existing(options, info) if options.resume else Existing([])
    done = {row.id for row in existing.rows}
    return _Plan(dataset, folder, info, existing, [q for q in dataset.queries if q.id not in done])


def _existing(options: QaOptions, info: RunInfo) -> Existing:
    answers, recorded = options.out_dir / ANSWERS, options.out_dir / RUN_INFO
    if not answers.exists():
        _say(f"--resume: nothing to resume in {options.out_dir}; starting")
        return Existing([])
    if not recorded.exists():
        raise RunMismatch(
            f"cannot resume: {options.out_dir} has {ANSWERS} but no {RUN_INFO}; run without --resume to start over"
        )
    try:
        before = RunInfo.from_json(json.loads(recorded.read_text(encoding="utf-8")))
    except (OSError, ValueError, TypeError) as exc:
        raise RunMismatch(
            f"cannot resume: {recorded} is unreadable ({exc}); run without --resume to start over"
        ) from None
    old, new = _flat(before.identity()), _flat(info.identity())
    changed = [key for key in new if old.get(key) != new[key]]
    if changed:
        key = changed[0]
        raise RunMismatch(
            f"cannot resume: {options.out_dir} was run with a different {key} ({_show(old.get(key))} there, "
            f"{_show(new[key])} now); use another --out, or run without --resume to start over"
        )
    existing = read_rows(answers)
    if existing.torn_line is not None:
        _say(f"--resume: {answers} line {existing.torn_line} was cut short by an interrupted run; it will be redone")
    return existing


def _open_answers(options: QaOptions, plan: _Plan) -> IO[str]:
    options.out_dir.mkdir(parents=True, exist_ok=True)
    (options.out_dir / RUN_INFO).write_text(json.dumps(asdict(plan.info), indent=2) + "\n")
    answers = options.out_dir / ANSWERS
    if options.resume:
        return open_for_append(answers, plan.existing)
    if answers.exists():
        _say(f"replacing {answers} from an earlier run (use --resume to continue it instead)")
    return answers.open("w", encoding="utf-8")


def _ingest(components: "Components", plan: _Plan, quiet: bool) -> list[str]:
    started = time.perf_counter()
    results = plan.folder.results if plan.folder else list(dataset_documents(plan.dataset))
    _say(
        f"{plan.info.dataset}: {len(plan.dataset.queries)} questions, {plan.info.documents} documents → corpus '{plan.info.corpus}'",
        quiet,
    )
    with StageProgress("ingest", len(results), quiet=quiet, every=max(1, len(results) // 10)) as progress:

        def notify(event: IngestEvent) -> None:
            if event.outcome == "refused":
                progress.always(f"refused {event.label}: {event.detail}")
            progress.advance(f"{event.outcome} {event.label}")

        report = components.ingestor.ingest_documents(results, progress=notify)
    seconds = time.perf_counter() - started
    _say(f"ingest: {report.summary()} in {seconds:.1f}s", quiet)
    notes = [f"ingest: {report.summary()} in {seconds:.1f}s"]
    if report.refused:
        notes.append(f"{len(report.refused)} document(s) refused at ingestion (listed on stderr)")
    return notes


def _warm(components: "Components") -> list[str]:
    """Build the BM25 index and the graph once, so the first questions' latency is retrieval, not building."""
    started = time.perf_counter()
    components.bm25.index()
    components.graph.knowledge_graph()
    return [f"index warm-up (BM25 + graph): {time.perf_counter() - started:.1f}s, before the timed questions"]


async def _answer_all(engine: "Engine", queries: list[EvalQuery], options: QaOptions, handle: IO[str]) -> None:
    from quarry.graph.engine import ResearchRequest

    gate = asyncio.Semaphore(options.concurrency)
    with StageProgress("answer", len(queries), quiet=options.quiet) as progress:

        async def one(query: EvalQuery) -> None:
            async with gate:
                started = time.perf_counter()
                result = await engine.run(
                    ResearchRequest(
                        question=query.text, budget=options.limits, principal=PRINCIPAL, use_cache=options.use_cache
                    )
                )
                latency = time.perf_counter() - started
            row = score(query, result.answer, latency_s=latency, limits=options.limits)
            append(handle, row)
            progress.advance(_describe(row))

        async with engine:
            try:
                async with asyncio.TaskGroup() as group:
                    for query in queries:
                        group.create_task(one(query))
            except BaseExceptionGroup as failed:  # report the first failure as itself; finished rows are kept
                raise failed.exceptions[0] from None


def _describe(row: QaRow) -> str:
    parts = [row.id]
    if row.contains is not None:
        parts.append(f"contains {row.contains:.0f} f1 {row.f1:.2f}")
    if row.evidence_recall is not None:
        parts.append(f"recall {row.evidence_recall:.2f}")
    parts.append(f"{row.latency_s:.1f}s")
    if row.partial:
        parts.append(f"partial ({row.stopped_by})")
    if row.violated:
        parts.append("BUDGET VIOLATION " + ",".join(k for k, v in row.budget_violations.items() if v))
    return " · ".join(parts)


def _fingerprint(path: Path, kind: str) -> str:
    if kind == "beir":
        files = [path / "corpus.jsonl", path / "queries.jsonl", path / "qrels" / "test.tsv"]
    elif path.is_dir():
        files = (sorted(path.glob("*.json")) + sorted(path.glob("*.jsonl")))[:1]
    else:
        files = [path]
    digest = hashlib.sha256()
    for file in files:
        with file.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


def _flat(identity: dict[str, Any]) -> dict[str, Any]:
    """limits.max_hops rather than the whole limits object, so a refusal names the one that changed."""
    flat = {k: v for k, v in identity.items() if k != "limits"}
    flat.update({f"limits.{k}": v for k, v in identity.get("limits", {}).items()})
    return flat


def _show(value: object) -> str:
    return json.dumps(value) if isinstance(value, (dict, list)) else repr(value)


def _say(message: str, quiet: bool = False) -> None:
    if not quiet:
        print(message, file=sys.stderr, flush=True)
