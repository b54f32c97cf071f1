"""`quarry eval retrieval`: ingest a dataset into its own corpus, run every retriever and the peer."""

import sys
import time
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
from langchain_core.retrievers import BaseRetriever

from quarry.agent.components import Components
from quarry.agent.settings import Settings
from quarry.corpus.filters import Principal
from quarry.corpus.ingest import IngestEvent
from quarry.corpus.store import DocumentStore
from quarry.eval import suite
from quarry.eval.corpus_loader import corpus_schema, ingest_dataset
from quarry.eval.datasets import EvalDataset, dataset_name, discover_sets, load_dataset, sliced
from quarry.eval.peer import PEER_NAME, StoredVectors, build_peer
from quarry.eval.retrieval import RECALL_KS, SystemFn, SystemRun, evaluate, markdown_table, write_reports
from quarry.eval.suite import build_report, set_result
from quarry.tools.hits import Hit
from quarry.tools.hybrid import Mode

PRINCIPAL = Principal(id="eval", groups=("public",))


def run_retrieval_eval(
    settings: Settings,
    dataset_path: Path,
    *,
    limit: int | None,
    out_dir: Path,
    corpus: str | None = None,
    peer: bool = True,
    max_documents: int | None = None,
    captured: dict[str, Mapping[str, list[Hit]]] | None = None,
) -> tuple[EvalDataset, dict[str, SystemRun]]:
    """Runs every system on one set and writes its own report. `captured`, when given, receives each
    query's candidate lists per retriever (from the hybrid call) so fusion can be re-run offline."""
    dataset = load_dataset(dataset_path, limit=limit)
    if max_documents:
        dataset = sliced(dataset, max_documents)
    schema = corpus_schema(corpus or dataset.name)
    settings = settings.model_copy(update={"database": settings.database.model_copy(update={"schema_name": schema})})
    say(
        f"dataset {dataset.name}: {len(dataset.documents)} documents, {len(dataset.queries)} queries → corpus '{schema}'"
    )
    notes: list[str] = []
    with Components(settings) as components:
        started = time.perf_counter()
        total = len(dataset.documents)
        done = 0

        def progress(event: IngestEvent) -> None:
            nonlocal done
            done += 1
            if done % 500 == 0 or done == total:
                rate = done / (time.perf_counter() - started)
                say(f"ingest: {done}/{total} documents ({rate:.0f}/s, {event.outcome} {event.label})")

        report = ingest_dataset(components.ingestor, dataset, progress)
        say(f"ingest: {report.summary()} in {time.perf_counter() - started:.0f}s")
        retriever = components.retriever
        depth = max(RECALL_KS)

        def system(mode: Mode, rerank: bool) -> SystemFn:
            def run(query: str, vector: list[float]) -> list[str]:
                result = retriever.retrieve(
                    query, principal=PRINCIPAL, k=depth, mode=mode, rerank=rerank, query_vector=vector
                )
                if captured is not None and mode == "hybrid" and not rerank:
                    captured[query] = result.by_retriever
                return [f.hit.document_id for f in result.hits]

            return run

        systems: dict[str, SystemFn] = {
            "dense": system("dense", False),
            "bm25": system("bm25", False),
            "kg": system("kg", False),
            "hybrid": system("hybrid", False),
            "hybrid_rerank": system("hybrid", True),
        }
        # Warm the per-version BM25 index and graph so the timed queries measure retrieval, not building.
        started = time.perf_counter()
        components.bm25.index()
        components.graph.knowledge_graph()
        notes.append(
            f"index warm-up (BM25 + graph build or load): {time.perf_counter() - started:.1f}s, not timed per query"
        )
        peer_embeddings = None
        if peer:
            try:
                peer_retriever, peer_embeddings = _peer(components, depth)
                systems[PEER_NAME] = lambda query, vector: _run_peer(peer_retriever, peer_embeddings, query, vector)
                notes.append(
                    f"{PEER_NAME}: langchain-classic EnsembleRetriever(BM25Retriever, InMemoryVectorStore), "
                    "weights 0.5/0.5, same chunks and stored vectors"
                )
            except ImportError:
                notes.append(f"{PEER_NAME} skipped: install the peer extra (pip install -e '.[peer]')")
        notes.append("latency excludes query embedding (computed once per query, shared by all systems)")
        runs = evaluate(dataset, systems, components.embedder.embed_query, progress=say)
    summary = write_reports(dataset, runs, out_dir, notes)
    print(markdown_table(dataset, summary, notes))
    return dataset, runs


def _peer(components: Components, depth: int) -> tuple[BaseRetriever, StoredVectors]:
    rows = DocumentStore(components.db).chunk_vectors()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # langchain-community announces its sunset on import
        return build_peer(rows, [np.asarray(r["embedding"]) for r in rows], depth)


def _run_peer(retriever: BaseRetriever, embeddings: StoredVectors, query: str, vector: list[float]) -> list[str]:
    embeddings.queries[query] = vector
    return [doc.metadata["document_id"] for doc in retriever.invoke(query)]


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def run_suite(
    settings: Settings,
    data: Path,
    *,
    limit: int | None,
    out_dir: Path,
    peer: bool,
    max_documents: int | None,
    folds: int,
    seed: int,
) -> dict[str, Any]:
    """Every set found at `data` (or `data` itself when it is one set), then one table under the protocol."""
    results = []
    for path in discover_sets(data):
        captured: dict[str, Mapping[str, list[Hit]]] = {}
        dataset, runs = run_retrieval_eval(
            settings,
            path,
            limit=limit,
            out_dir=out_dir / dataset_name(path),
            peer=peer,
            max_documents=max_documents,
            captured=captured,
        )
        live = {name: run.per_query for name, run in runs.items()}
        results.append(set_result(dataset, live, captured, settings.retrieval.fusion))
    report = build_report(results, folds=folds, seed=seed)
    report["limits"] = {"queries_per_set": limit, "max_documents": max_documents}
    print(suite.write(report, out_dir))
    return report
