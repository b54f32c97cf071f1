"""Benchmark: ingest throughput, and search latency/recall at 10k and 100k chunks.

Run: `python -m bench.bench_ingest [--sizes 10000,100000] [--ingest-docs 2000] [--queries 41] [--out FILE]`
(or `make bench`). Prints Markdown tables, writes JSON (default bench/out/bench_ingest.json).

A. Ingest: the real pipeline (load → chunk → embed with the packaged model → extract entities →
   PostgreSQL) over MS MARCO passages from ../shared/data; embedding vs database time.
B. Search at each size, in a schema of its own: dense search with the automatic plan, unfiltered
   and at 1% selectivity, against exact search (recall@10); plain HNSW at ef_search=40 under the
   same 1% filter, to show what post-filtering does; BM25 and hybrid retrieval latency. Embedding
   100k real texts would take most of an hour on 2 cores, so real vectors (the shared sets' texts,
   embedded once) are reused with Gaussian noise and renormalised; texts are reused likewise. The
   JSON says how many are real. Query embedding is excluded from all latencies.
"""

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from quarry.agent.components import Components
from quarry.agent.settings import Settings, load_settings
from quarry.corpus.chunking import Chunk
from quarry.corpus.entities import OfflineExtractor
from quarry.corpus.filters import Principal, SearchFilters
from quarry.corpus.metadata import SourceDocument, validate_metadata
from quarry.tools.config import DenseConfig
from quarry.tools.dense import DenseSearch

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
SETS = ("msmarco-5k", "dbpedia-entity-5k")
CHUNKS_PER_DOC = 10
PRINCIPAL = Principal(groups=("public",))
RARE = SearchFilters(domains=("rare",))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.bench_ingest", description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10000,100000", help="chunk counts to test search at")
    parser.add_argument("--ingest-docs", type=int, default=2000)
    parser.add_argument("--queries", type=int, default=41)
    parser.add_argument("--out", type=Path, default=Path("bench/out/bench_ingest.json"))
    args = parser.parse_args(argv)
    texts, queries = _shared_texts()
    base = _settings()
    results: dict = {"machine": {"cpus": os.cpu_count(), "platform": platform.platform()}, "search": []}
    with Components(base) as components:
        info = components.db.server_info()
        results["machine"].update(postgres=info.postgres_version, pgvector=info.pgvector_version)
        results["ingest"] = bench_ingest(components, texts[: args.ingest_docs])
        real_vectors = _embed(components, texts[: max(int(s) for s in args.sizes.split(","))])
        query_vectors = np.asarray(components.embedder.embed_documents(queries[: args.queries]), dtype=np.float32)
    for size in (int(s) for s in args.sizes.split(",")):
        settings = base.model_copy(
            update={"database": base.database.model_copy(update={"schema_name": f"bench_{size}"})}
        )
        with Components(settings) as components:
            try:
                results["search"].append(
                    bench_search(components, size, texts, real_vectors, queries[: args.queries], query_vectors)
                )
            finally:
                components.db.drop_schema()
    print(render(results))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2))
    say(f"wrote {args.out}")
    return 0


def bench_ingest(components: Components, texts: list[str]) -> dict:
    documents = [_document(f"ingest-{i}", text, "common") for i, text in enumerate(texts)]
    say(f"A. ingesting {len(documents)} passages through the real pipeline")
    components.embedder.load()
    started = time.perf_counter()
    report = components.ingestor.ingest_documents(documents)
    wall = time.perf_counter() - started
    components.db.drop_schema()
    return {
        "documents": report.ingested,
        "chunks": report.chunks_written,
        "wall_s": round(wall, 2),
        "docs_per_s": round(report.ingested / wall, 1),
        "chunks_per_s": round(report.chunks_written / wall, 1),
        "embed_s": round(report.embed_seconds, 2),
        "store_s": round(report.store_seconds, 2),
        "embed_share": round(report.embed_seconds / wall, 3),
    }


def bench_search(components: Components, size: int, texts, real_vectors, queries, query_vectors) -> dict:
    rng = np.random.default_rng(size)
    extractor = OfflineExtractor()
    say(f"B. loading {size} chunks into schema bench_{size}")
    started = time.perf_counter()
    docs = size // CHUNKS_PER_DOC
    for d in range(docs):
        picks = [(d * CHUNKS_PER_DOC + c) % len(real_vectors) for c in range(CHUNKS_PER_DOC)]
        vectors = real_vectors[picks]
        if d * CHUNKS_PER_DOC >= len(real_vectors):  # beyond the real vectors: perturbed copies
            vectors = vectors + rng.normal(scale=0.02, size=vectors.shape).astype(np.float32)
            vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        document, chunks = _multi_chunk_document(
            f"d{d}", [texts[p] for p in picks], "rare" if d % 100 == 0 else "common"
        )
        components.store.write(
            document, chunks, vectors, extractor.extract(document.metadata.title, document.text, chunks)
        )
        if (d + 1) % 1000 == 0:
            say(
                f"   {(d + 1) * CHUNKS_PER_DOC} chunks, {(d + 1) * CHUNKS_PER_DOC / (time.perf_counter() - started):.0f}/s"
            )
    components.store.analyze()
    load_s = time.perf_counter() - started
    dense = components.dense
    plain = DenseSearch(components.db, DenseConfig(exact_scan_max_rows=0, ef_search_min=40, ef_search_max=40))
    row: dict = {"chunks": size, "real_vectors": min(size, len(real_vectors)), "load_s": round(load_s, 1)}
    for name, filters in (("unfiltered", None), ("1pct", RARE)):
        exact = [
            _ids(dense.search(q, k=10, principal=PRINCIPAL, filters=filters, strategy="exact")) for q in query_vectors
        ]
        auto_lat, auto = _timed(
            [lambda q=q, f=filters: dense.search(q, k=10, principal=PRINCIPAL, filters=f) for q in query_vectors]
        )
        exact_lat, _ = _timed(
            [
                lambda q=q, f=filters: dense.search(q, k=10, principal=PRINCIPAL, filters=f, strategy="exact")
                for q in query_vectors
            ]
        )
        row[f"dense_{name}"] = {
            **_latency(auto_lat),
            "recall_vs_exact": _recall(auto, exact),
            "rows": _mean_rows(auto),
            "plans": sorted({f"{r.plan.strategy}(ef={r.plan.ef_search})" for r in auto}),
            "exact_p50_ms": _latency(exact_lat)["p50_ms"],
        }
    exact_all = [_ids(dense.search(q, k=10, principal=PRINCIPAL, strategy="exact")) for q in query_vectors]
    for ef in (40, 100, 200):
        swept = DenseSearch(components.db, DenseConfig(exact_scan_max_rows=0, ef_search_min=ef))
        lat, res = _timed([lambda q=q, s=swept: s.search(q, k=10, principal=PRINCIPAL) for q in query_vectors])
        row[f"hnsw_unfiltered_ef{ef}"] = {
            **_latency(lat),
            "recall_vs_exact": _recall(res, exact_all),
            "rows": _mean_rows(res),
            "plans": sorted({f"{r.plan.strategy}(ef={r.plan.ef_search})" for r in res}),
        }
    plain_lat, plain_results = _timed(
        [lambda q=q: plain.search(q, k=10, principal=PRINCIPAL, filters=RARE, strategy="hnsw") for q in query_vectors]
    )
    exact_rare = [
        _ids(dense.search(q, k=10, principal=PRINCIPAL, filters=RARE, strategy="exact")) for q in query_vectors
    ]
    row["plain_hnsw_1pct"] = {
        **_latency(plain_lat),
        "recall_vs_exact": _recall(plain_results, exact_rare),
        "rows": _mean_rows(plain_results),
    }
    components.bm25.index()  # build outside the timed loop
    components.retriever.graph.knowledge_graph()
    bm25_lat, _ = _timed([lambda t=t: components.bm25.search(t, k=10, principal=PRINCIPAL) for t in queries])
    row["bm25"] = _latency(bm25_lat)
    for label, rerank in (("hybrid", False), ("hybrid_rerank", True)):
        lat, _ = _timed(
            [
                lambda t=t, q=q, r=rerank: components.retriever.retrieve(
                    t, principal=PRINCIPAL, k=10, rerank=r, query_vector=q
                )
                for t, q in zip(queries, query_vectors)
            ]
        )
        row[label] = _latency(lat)
    return row


def render(results: dict) -> str:
    ingest = results["ingest"]
    lines = [
        "## Ingest (real pipeline: chunk, embed, extract entities, store)",
        "",
        "| documents | chunks | wall s | docs/s | chunks/s | embedding s | database s | embedding share |",
        "|---|---|---|---|---|---|---|---|",
        f"| {ingest['documents']} | {ingest['chunks']} | {ingest['wall_s']} | {ingest['docs_per_s']} | {ingest['chunks_per_s']} "
        f"| {ingest['embed_s']} | {ingest['store_s']} | {ingest['embed_share']:.0%} |",
        "",
        "## Search (ms, query embedding excluded; recall@10 against exact search)",
        "",
        "| chunks | search | p50 | p95 | recall vs exact | rows (k=10) | plan |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in results["search"]:
        for name in (
            "dense_unfiltered",
            "hnsw_unfiltered_ef40",
            "hnsw_unfiltered_ef100",
            "hnsw_unfiltered_ef200",
            "dense_1pct",
            "plain_hnsw_1pct",
            "bm25",
            "hybrid",
            "hybrid_rerank",
        ):
            cell = row[name]
            recall = f"{cell['recall_vs_exact']:.3f}" if "recall_vs_exact" in cell else "–"
            rows = f"{cell['rows']:.1f}" if "rows" in cell else "–"
            plan = ", ".join(cell.get("plans", [])) or ("hnsw(ef=40), no widening" if name.startswith("plain") else "–")
            lines.append(
                f"| {row['chunks']:,} | {name} | {cell['p50_ms']:.1f} | {cell['p95_ms']:.1f} | {recall} | {rows} | {plan} |"
            )
        lines.append(
            f"| {row['chunks']:,} | exact scan (baseline) unfiltered / 1% | {row['dense_unfiltered']['exact_p50_ms']:.1f} / "
            f"{row['dense_1pct']['exact_p50_ms']:.1f} | | 1.000 | | |"
        )
    lines += [
        "",
        f"Machine: {results['machine']}. Vectors beyond the real ones are perturbed copies (see JSON: real_vectors).",
    ]
    return "\n".join(lines)


def _shared_texts() -> tuple[list[str], list[str]]:
    texts, queries = [], []
    for name in SETS:
        folder = SHARED / name
        if not folder.exists():
            continue
        texts += [
            json.loads(line)["text"]
            for line in (folder / "corpus.jsonl").read_text(encoding="utf-8").split("\n")
            if line.strip()
        ]
        queries += [
            json.loads(line)["text"]
            for line in (folder / "queries.jsonl").read_text(encoding="utf-8").split("\n")
            if line.strip()
        ]
    if not texts:
        say(f"notice: {SHARED} not found; using generated text (figures will not reflect real language)")
        rng = np.random.default_rng(0)
        vocab = [f"term{i}" for i in range(5000)]
        texts = [" ".join(rng.choice(vocab, 60)) for _ in range(10_000)]
        queries = [" ".join(rng.choice(vocab, 5)) for _ in range(41)]
    return texts, queries


def _embed(components: Components, texts: list[str]) -> np.ndarray:
    cache = Path(tempfile.gettempdir()) / f"quarry-bench-vectors-{len(texts)}.npy"
    if cache.exists():
        return np.load(cache)
    say(f"embedding {len(texts)} real texts once (cached at {cache})")
    vectors = np.asarray(components.embedder.embed_documents(texts), dtype=np.float32)
    np.save(cache, vectors)
    return vectors


def _document(doc_id: str, text: str, domain: str) -> SourceDocument:
    metadata = validate_metadata(
        doc_id,
        {
            "id": doc_id,
            "source": f"bench:{doc_id}",
            "title": " ".join(text.split()[:8]) or doc_id,
            "author": "bench",
            "domain": domain,
            "published_at": "2024-01-01T00:00:00Z",
            "access": ["public"],
        },
        where="bench",
    )
    return SourceDocument(doc_id, doc_id, text, metadata)


def _multi_chunk_document(doc_id: str, parts: list[str], domain: str) -> tuple[SourceDocument, list[Chunk]]:
    text, chunks, cursor = "", [], 0
    for ordinal, part in enumerate(parts):
        part = " ".join(part.split()) or "empty"
        text += part + "\n\n"
        chunks.append(Chunk(ordinal, cursor, cursor + len(part), part, max(1, len(part) // 4)))
        cursor = len(text)
    return _document(doc_id, text, domain), chunks


def _timed(calls) -> tuple[list[float], list]:
    latencies, results = [], []
    for call in calls:
        started = time.perf_counter()
        results.append(call())
        latencies.append((time.perf_counter() - started) * 1000)
    return latencies, results


def _latency(values: list[float]) -> dict:
    ordered = sorted(values)
    return {
        "p50_ms": round(statistics.median(ordered), 2),
        "p95_ms": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))], 2),
    }


def _ids(result) -> list[int]:
    return [h.chunk_id for h in result.hits]


def _recall(results, exact: list[list[int]]) -> float:
    scores = [len(set(_ids(r)) & set(e)) / len(e) for r, e in zip(results, exact) if e]
    return round(sum(scores) / len(scores), 4) if scores else 0.0


def _mean_rows(results) -> float:
    return round(sum(len(r.hits) for r in results) / len(results), 2)


def _settings() -> Settings:
    overrides = (
        {} if os.environ.get("QUARRY_DATABASE_URL") else {"storage.data_dir": tempfile.mkdtemp(prefix="quarry-bench-")}
    )
    return load_settings(overrides={**overrides, "database.schema_name": "bench_ingest", "database.pool_max": 4})


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


if __name__ == "__main__":
    sys.exit(main())
