"""BM25 and hybrid query latency with per-reader BM25 statistics (issue 20, M1).

Run: `python -m bench.bench_retrieval [--docs N] [--rounds R] [--label L] [--out FILE]`. Loads the
shared BEIR sets (MS MARCO 5k passages, SciFact 5,183 abstracts, DBpedia-Entity 5k; from
../shared/data, skipped cleanly when absent) into an embedded PostgreSQL of its own, chunked with the
default chunker, entities from the offline extractor, random unit vectors (dense latency is not the
subject). 80% of documents are `public`, 10% `finance`, 10% `leadership`. The queries are the sets'
own (191 in all), each run `--rounds` times.

For three readers — `everyone` (reads all: its statistics are the corpus-wide ones, the arithmetic
the index used before statistics were per reader, so it is this run's baseline), `public` and
`finance` (public + finance) — it reports the first query (which builds the reader view's
statistics, once per corpus version), then p50/p95 of warm BM25 queries with a bootstrap 95% CI of
the p50; and warm hybrid (dense + BM25 + graph, fused, offline rerank) p50 for the public reader.

With `--baseline FILE` (another version of tools/bm25.py, e.g. the one before per-reader statistics:
`git show 3d91133:tools/bm25.py > /tmp/bm25_before.py`), that implementation is measured in the
same process, on the same database, interleaved query by query with the current one (alternating
which goes first), for BM25 alone and inside hybrid retrieval; machine load then hits both alike.

Prints a Markdown table and writes JSON (default bench/out/bench_retrieval.json).
"""

import argparse
import importlib.util
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from quarry.agent.components import Components
from quarry.agent.settings import load_settings
from quarry.corpus.chunking import chunk_text
from quarry.corpus.config import ChunkingConfig
from quarry.corpus.entities import OfflineExtractor
from quarry.corpus.filters import Principal
from quarry.corpus.metadata import SourceDocument, validate_metadata
from quarry.corpus.store import DocumentStore
from quarry.tools.hybrid import HybridRetriever
from tests.support.pg_control import EmbeddedCluster

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
SETS = ("msmarco-5k", "scifact", "dbpedia-entity-5k")
READERS = {
    "everyone": ("public", "finance", "leadership"),
    "public": ("public",),
    "finance": ("public", "finance"),
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.bench_retrieval", description=__doc__.split("\n\n")[0])
    parser.add_argument("--docs", type=int, default=15_183, help="documents to load (at most the sets' total)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--label", default="", help="a name for this run in the output (e.g. before/after)")
    parser.add_argument("--out", type=Path, default=Path("bench/out/bench_retrieval.json"))
    parser.add_argument("--data", type=Path, default=DATA, help=f"the shared data folder (default {DATA})")
    parser.add_argument("--baseline", type=Path, help="a file holding another Bm25Search to measure interleaved")
    args = parser.parse_args(argv)
    if args.baseline and not args.baseline.is_file():
        parser.error(f"--baseline {args.baseline}: no such file")
    present = [name for name in SETS if (args.data / name / "corpus.jsonl").exists()]
    if not present:
        print(f"skipped: no BEIR sets under {args.data}")
        return 0
    records = [r for name in present for r in _read(args.data / name / "corpus.jsonl")][: args.docs]
    queries = [r["text"] for name in present for r in _read(args.data / name / "queries.jsonl")]
    with tempfile.TemporaryDirectory(prefix="quarry-retrieval-") as tmp:
        cluster = EmbeddedCluster(Path(tmp) / "pg" / "data")
        settings = load_settings(
            Path(os.devnull),
            overrides={
                "database.url": cluster.url,
                "database.schema_name": "bench_retrieval",
                "storage.data_dir": str(Path(tmp) / "data"),
                "cache.enabled": False,
            },
            environ={},
        )
        with Components(settings, environ={}) as components:
            chunks, load_s = _load(components, records)
            results = _measure(components, queries, args.rounds)
            if args.baseline:
                results["rows"] += _interleaved(components, args.baseline, queries, args.rounds)
    results = {
        "label": args.label,
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform()},
        "documents": len(records),
        "chunks": chunks,
        "load_s": round(load_s, 1),
        "queries": len(queries),
        "rounds": args.rounds,
        **results,
    }
    _report(results)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"\nwrote {args.out}")
    return 0


def _read(path: Path) -> list[dict[str, Any]]:
    with path.open() as lines:
        return [json.loads(line) for line in lines if line.strip()]


def _load(components: Components, records: list[dict[str, Any]]) -> tuple[int, float]:
    store = DocumentStore(components.db)
    extractor = OfflineExtractor()
    config = ChunkingConfig()
    rng = np.random.default_rng(7)
    started, total = time.perf_counter(), 0
    for n, record in enumerate(records):
        text = (record.get("title", "") + "\n\n" + record["text"]).strip()
        group = "finance" if n % 10 == 3 else "leadership" if n % 10 == 7 else "public"
        doc_id = f"d{n}"
        metadata = validate_metadata(
            doc_id,
            {
                "id": doc_id,
                "source": f"bench:{record['_id']}",
                "title": record.get("title") or doc_id,
                "author": "bench",
                "domain": "bench",
                "published_at": "2024-01-01T00:00:00Z",
                "access": [group],
            },
            where="bench",
        )
        chunks = chunk_text(text, config)
        vectors = rng.normal(size=(len(chunks), 384)).astype(np.float32)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        extraction = extractor.extract(metadata.title, text, chunks)
        store.write(SourceDocument(doc_id, doc_id, text, metadata), chunks, vectors, extraction)
        total += len(chunks)
        if (n + 1) % 2000 == 0:
            _say(f"loaded {n + 1} documents, {total} chunks")
    store.analyze()
    return total, time.perf_counter() - started


def _measure(components: Components, queries: list[str], rounds: int) -> dict[str, Any]:
    bm25 = components.bm25
    started = time.perf_counter()
    bm25.index()
    build_ms = (time.perf_counter() - started) * 1000
    components.graph.knowledge_graph()
    rows = []
    for name, groups in READERS.items():
        principal = Principal(groups=groups)
        started = time.perf_counter()
        bm25.search(queries[0], k=50, principal=principal)
        first_ms = (time.perf_counter() - started) * 1000
        samples = []
        for _ in range(rounds):
            for query in queries:
                began = time.perf_counter()
                bm25.search(query, k=50, principal=principal)
                samples.append((time.perf_counter() - began) * 1000)
        rows.append({"retriever": "bm25", "reader": name, "first_ms": round(first_ms, 2), **_stats(samples)})
    rng = np.random.default_rng(3)
    public = Principal(groups=READERS["public"])
    retriever = components.retriever
    vectors = rng.normal(size=(len(queries), 384)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    retriever.retrieve(queries[0], principal=public, query_vector=vectors[0].tolist())
    samples, parts = [], {}
    for _ in range(rounds):
        for query, vector in zip(queries, vectors):
            began = time.perf_counter()
            result = retriever.retrieve(query, principal=public, query_vector=vector.tolist())
            samples.append((time.perf_counter() - began) * 1000)
            for part, ms in result.timings_ms.items():
                parts.setdefault(part, []).append(ms)
    rows.append({"retriever": "hybrid", "reader": "public", "first_ms": None, **_stats(samples)})
    for part, values in sorted(parts.items()):
        rows.append({"retriever": f"hybrid: {part}", "reader": "public", "first_ms": None, **_stats(values)})
    return {"bm25_index_build_ms": round(build_ms, 1), "rows": rows}


def _interleaved(components: Components, baseline: Path, queries: list[str], rounds: int) -> list[dict[str, Any]]:
    spec = importlib.util.spec_from_file_location("bm25_baseline", baseline)
    assert spec is not None and spec.loader is not None, baseline
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    settings = components.settings
    old = module.Bm25Search(components.db, settings.retrieval.bm25, settings.data_dir / "cache" / "bm25-baseline")
    twins = {
        "current": (components.bm25, components.retriever),
        "baseline": (
            old,
            HybridRetriever(
                components.embedder,
                components.dense,
                old,
                settings.retrieval,
                graph=components.graph,
                reranker=components.reranker,
            ),
        ),
    }
    public = Principal(groups=READERS["public"])
    vectors = np.random.default_rng(5).normal(size=(len(queries), 384)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    samples: dict[tuple[str, str], list[float]] = {}
    for bm25, retriever in twins.values():  # warm both: index, reader view, graph view
        bm25.search(queries[0], k=50, principal=public)
        retriever.retrieve(queries[0], principal=public, query_vector=vectors[0].tolist())
    for round_ in range(rounds):
        for n, (query, vector) in enumerate(zip(queries, vectors)):
            order = list(twins) if (n + round_) % 2 == 0 else list(reversed(twins))
            for name in order:
                bm25, retriever = twins[name]
                began = time.perf_counter()
                bm25.search(query, k=50, principal=public)
                samples.setdefault(("bm25", name), []).append((time.perf_counter() - began) * 1000)
                began = time.perf_counter()
                retriever.retrieve(query, principal=public, query_vector=vector.tolist())
                samples.setdefault(("hybrid", name), []).append((time.perf_counter() - began) * 1000)
    return [
        {"retriever": f"{kind} interleaved: {name}", "reader": "public", "first_ms": None, **_stats(values)}
        for (kind, name), values in samples.items()
    ]


def _stats(samples: list[float]) -> dict[str, Any]:
    values = np.array(samples)
    boot = np.median(np.random.default_rng(1).choice(values, size=(1000, len(values))), axis=1)
    return {
        "n": len(values),
        "p50_ms": round(float(np.median(values)), 3),
        "p50_ci95_ms": [round(float(np.percentile(boot, 2.5)), 3), round(float(np.percentile(boot, 97.5)), 3)],
        "p95_ms": round(float(np.percentile(values, 95)), 3),
    }


def _report(results: dict[str, Any]) -> None:
    print(
        f"\n{results['label'] or 'run'}: {results['documents']} documents, {results['chunks']} chunks,"
        f" {results['queries']} queries × {results['rounds']}; BM25 index build {results['bm25_index_build_ms']} ms\n"
    )
    print("| retriever | reader | first query ms | p50 ms [95% CI] | p95 ms |")
    print("|---|---|---|---|---|")
    for row in results["rows"]:
        low, high = row["p50_ci95_ms"]
        first = "" if row["first_ms"] is None else f"{row['first_ms']:.1f}"
        print(
            f"| {row['retriever']} | {row['reader']} | {first} | {row['p50_ms']:.2f} [{low:.2f}, {high:.2f}]"
            f" | {row['p95_ms']:.2f} |"
        )


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


if __name__ == "__main__":
    sys.exit(main())
