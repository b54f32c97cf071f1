"""Row-level security and HNSW: does enforcing access in PostgreSQL (database.row_security) drop
results, and what does it cost?

Run: `python -m bench.bench_rls [--chunks N] [--queries Q] [--out FILE]`. Loads N synthetic chunks
(clustered unit vectors) into an embedded PostgreSQL of its own, in documents readable by one group
each: `g1` (1% of chunks), `g5` (5%), `g20` (20%), the rest `public`. For a reader of each group it
measures recall@10 against an exact scan and the rows returned, for:

- rls only: `ORDER BY embedding <=> q LIMIT 10` with no access predicate, left to the policies
  (the planner's choice of plan, default ef_search);
- rls only, hnsw: the same with the planner held to the HNSW index (what it picks on big tables);
- quarry + rls: Quarry's dense search with row_security on (predicate in the SQL, exact scan or a
  widened ef_search chosen by estimated selectivity), and its latency against row_security off.

Prints a Markdown table and writes JSON (default bench/out/bench_rls.json).
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

from quarry.agent.settings import load_settings
from quarry.corpus.chunking import Chunk
from quarry.corpus.db import Database
from quarry.corpus.filters import Principal
from quarry.corpus.metadata import SourceDocument, validate_metadata
from quarry.corpus.store import DocumentStore
from quarry.tools.config import DenseConfig
from quarry.tools.dense import DenseSearch
from tests.support.pg_control import EmbeddedCluster

CHUNKS_PER_DOC = 25
GROUPS = (("g1", 0.01), ("g5", 0.05), ("g20", 0.20))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.bench_rls", description=__doc__.split("\n\n")[0])
    parser.add_argument("--chunks", type=int, default=20_000)
    parser.add_argument("--queries", type=int, default=50)
    parser.add_argument("--out", type=Path, default=Path("bench/out/bench_rls.json"))
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="quarry-rls-") as tmp:
        cluster = EmbeddedCluster(Path(tmp) / "pg" / "data")
        plain, rls = (_open(cluster.url, Path(tmp), row_security) for row_security in (False, True))
        try:
            vectors = _load(plain, args.chunks)
            queries = _queries(vectors, args.queries)
            rows = [_measure(plain, rls, group, share, queries) for group, share in GROUPS]
        finally:
            rls.close()
            plain.close()
    results = {
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform()},
        "chunks": args.chunks,
        "queries": args.queries,
        "rows": rows,
    }
    _report(results)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"\nwrote {args.out}")
    return 0


def _open(url: str, root: Path, row_security: bool) -> Database:
    settings = load_settings(
        Path(os.devnull),
        overrides={
            "database.url": url,
            "database.schema_name": "bench_rls",
            "storage.data_dir": str(root / "data"),
            "database.row_security": row_security,
            "database.pool_max": 2,
        },
        environ={},
    )
    return Database.open(settings.database, settings.embedding, settings.data_dir)


def _load(db: Database, chunks: int) -> np.ndarray:
    rng = np.random.default_rng(11)
    centroids = rng.normal(size=(64, 384)).astype(np.float32)
    vectors = centroids[rng.integers(0, 64, size=chunks)] + rng.normal(scale=0.6, size=(chunks, 384)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    store = DocumentStore(db)
    docs = chunks // CHUNKS_PER_DOC
    started = time.perf_counter()
    for d in range(docs):
        share = (d * 7919 % docs) / docs  # spread each group's documents over the whole table
        group = next((g for g, limit in _cumulative() if share < limit), "public")
        part = slice(d * CHUNKS_PER_DOC, (d + 1) * CHUNKS_PER_DOC)
        store.write(*_document(f"d{d}", group), vectors[part])
        if (d + 1) % 200 == 0:
            _say(
                f"loaded {(d + 1) * CHUNKS_PER_DOC} chunks, {(d + 1) * CHUNKS_PER_DOC / (time.perf_counter() - started):.0f}/s"
            )
    store.analyze()
    return vectors


def _cumulative() -> list[tuple[str, float]]:
    total, bounds = 0.0, []
    for group, share in GROUPS:
        total += share
        bounds.append((group, total))
    return bounds


def _document(doc_id: str, group: str) -> tuple[SourceDocument, list[Chunk]]:
    parts = [f"Chunk {n} of {doc_id}." for n in range(CHUNKS_PER_DOC)]
    text, chunks, cursor = "", [], 0
    for ordinal, part in enumerate(parts):
        text += part + "\n\n"
        chunks.append(Chunk(ordinal, cursor, cursor + len(part), part, 4))
        cursor = len(text)
    metadata = validate_metadata(
        doc_id,
        {
            "id": doc_id,
            "source": f"bench:{doc_id}",
            "title": doc_id,
            "author": "bench",
            "domain": "bench",
            "published_at": "2024-01-01T00:00:00Z",
            "access": [group],
        },
        where="bench",
    )
    return SourceDocument(doc_id, doc_id, text, metadata), chunks


def _queries(vectors: np.ndarray, count: int) -> list[np.ndarray]:
    rng = np.random.default_rng(5)
    picks = vectors[rng.integers(0, len(vectors), size=count)] + rng.normal(scale=0.05, size=(count, 384)).astype(
        np.float32
    )
    return list(picks / np.linalg.norm(picks, axis=1, keepdims=True))


def _measure(plain: Database, rls: Database, group: str, share: float, queries: list[np.ndarray]) -> dict:
    _say(f"measuring a reader of {group} ({share:.0%} of chunks)")
    reader = Principal(id=group, groups=(group,))
    exact = [
        _ids(DenseSearch(plain, DenseConfig()).search(q, k=10, principal=reader, strategy="exact").hits)
        for q in queries
    ]
    row: dict = {"group": group, "share": share}
    for label, force_hnsw in (("rls_only", False), ("rls_only_hnsw", True)):
        found = [_rls_only(rls, reader, q, force_hnsw) for q in queries]
        row[label] = {"recall": _recall(found, exact), "rows": _mean(len(f) for f in found)}
    timings = {}
    for label, db in (("quarry_rls", rls), ("quarry_plain", plain)):
        search = DenseSearch(db, DenseConfig())
        latencies, found, plans = [], [], set()
        for q in queries:
            began = time.perf_counter()
            result = search.search(q, k=10, principal=reader)
            latencies.append((time.perf_counter() - began) * 1000)
            found.append(_ids(result.hits))
            plans.add(f"{result.plan.strategy}(ef={result.plan.ef_search})")
        timings[label] = statistics.median(latencies)
        row[label] = {
            "recall": _recall(found, exact),
            "rows": _mean(len(f) for f in found),
            "p50_ms": round(timings[label], 2),
            "plans": sorted(plans),
        }
    row["rls_latency_ratio"] = round(timings["quarry_rls"] / timings["quarry_plain"], 2)
    return row


def _rls_only(db: Database, reader: Principal, query: np.ndarray, force_hnsw: bool) -> list[int]:
    with db.reading(reader.groups) as conn:
        if force_hnsw:
            conn.execute("SET LOCAL enable_seqscan = off")
            conn.execute("SET LOCAL enable_bitmapscan = off")
        # Unprepared: psycopg prepares a statement after 5 runs, and a cached plan ignores the enable_* settings.
        rows = conn.execute(
            "SELECT id FROM chunks ORDER BY embedding <=> %s LIMIT 10", (query,), prepare=False
        ).fetchall()
    return [r["id"] for r in rows]


def _ids(hits) -> list[int]:
    return [h.chunk_id for h in hits]


def _recall(found: list[list[int]], exact: list[list[int]]) -> float:
    scores = [len(set(f) & set(e)) / len(e) for f, e in zip(found, exact) if e]
    return round(sum(scores) / len(scores), 4) if scores else 0.0


def _mean(values) -> float:
    values = list(values)
    return round(sum(values) / len(values), 2) if values else 0.0


def _report(results: dict) -> None:
    print(f"## Row-level security and HNSW ({results['chunks']} chunks, {results['queries']} queries, k=10)\n")
    print(
        "| reader | share | rls only: recall / rows | rls only, hnsw: recall / rows | quarry + rls: recall / rows | plans | p50 ms rls / plain (ratio) |"
    )
    print("|---|---:|---|---|---|---|---|")
    for r in results["rows"]:
        print(
            f"| {r['group']} | {r['share']:.0%} | {r['rls_only']['recall']:.3f} / {r['rls_only']['rows']} | "
            f"{r['rls_only_hnsw']['recall']:.3f} / {r['rls_only_hnsw']['rows']} | "
            f"{r['quarry_rls']['recall']:.3f} / {r['quarry_rls']['rows']} | {', '.join(r['quarry_rls']['plans'])} | "
            f"{r['quarry_rls']['p50_ms']} / {r['quarry_plain']['p50_ms']} ({r['rls_latency_ratio']}×) |"
        )


def _say(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


if __name__ == "__main__":
    sys.exit(main())
