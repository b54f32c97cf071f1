"""Benchmark: what images cost at ingest, and whether crashes leave orphans.

Run: `python -m bench.bench_assets [--documents 200] [--kills 50] [--out FILE]` (or `make bench`).
Prints Markdown tables, writes JSON (default bench/out/bench_assets.json).

A. Throughput: the same N Markdown documents ingested text-only and with 2 PNG figures each
   (256×192, ~1 KB–10 KB), in fresh schemas of one embedded PostgreSQL, in the same run:
   documents/s, and where the time goes (embedding, storing incl. blob writes with fsync).
B. Kill loop: `quarry ingest` subprocesses SIGKILLed at random points (eval/kill_loop.py); after
   each kill, every document is checked whole or absent; unreferenced blobs are counted before
   and after gc.
"""

import argparse
import json
import os
import platform
import sys
import tempfile
import time
import uuid
from pathlib import Path

from quarry.agent.components import Components
from quarry.agent.settings import load_settings
from tests.support.cli_env import quarry_env
from tests.support.image_corpus import png
from tests.support.kill_loop import kill_loop

REPO = Path(__file__).resolve().parents[1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.bench_assets", description=__doc__.split("\n\n")[0])
    parser.add_argument("--documents", type=int, default=200)
    parser.add_argument("--kills", type=int, default=50)
    parser.add_argument("--out", type=Path, default=Path("bench/out/bench_assets.json"))
    args = parser.parse_args(argv)
    root = Path(tempfile.mkdtemp(prefix="quarry-bench-assets-"))
    results: dict = {"machine": {"cpus": os.cpu_count(), "platform": platform.platform()}}
    say(f"throughput: {args.documents} documents, text-only then with images…")
    results["throughput"] = {
        "text_only": ingest_once(root, args.documents, images=0),
        "with_images": ingest_once(root, args.documents, images=2),
    }
    say(f"kill loop: {args.kills} SIGKILLs…")
    env = quarry_env(
        QUARRY_DATA_DIR=str(root / "kill" / "data"), QUARRY_DATABASE__SCHEMA_NAME=f"bench_kill_{uuid.uuid4().hex[:6]}"
    )
    if os.environ.get("QUARRY_DATABASE_URL"):
        env["QUARRY_DATABASE_URL"] = os.environ["QUARRY_DATABASE_URL"]
    loop = kill_loop(args.kills, root / "kill", env, seed=7, say=say)
    results["kill_loop"] = {
        "iterations": loop.iterations,
        "killed_while_writing": loop.killed_while_writing,
        "finished_before_kill": loop.finished_before_kill,
        "orphans_before_gc_total": sum(loop.orphans_before_gc),
        "orphans_before_gc_max": max(loop.orphans_before_gc, default=0),
        "orphans_after_gc_total": sum(loop.orphans_after_gc),
        "document_checks_whole": loop.documents_whole,
        "document_checks_absent": loop.documents_absent,
        "half_written": 0,
        "seconds": round(loop.seconds, 1),
    }
    report(results)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    say(f"wrote {args.out}")
    return 0


def ingest_once(root: Path, documents: int, *, images: int) -> dict:
    folder = root / f"docs-{images}"
    folder.mkdir(parents=True)
    blob_bytes = 0
    for n in range(documents):
        refs = []
        for i in range(images):
            data = png(n * 10 + i, size=(256, 192))
            (folder / f"fig-{n}-{i}.png").write_bytes(data)
            blob_bytes += len(data)
            refs.append(f"![Figure {i} of report {n}: settlement batch latency by hour](fig-{n}-{i}.png)")
        body = (
            f"# Report {n}\n\nSettlement batch {n} finished late because the Keel replica lagged behind the primary. "
            "The on-call engineer paged Payments Core and the batch was retried after the failover completed.\n\n"
        )
        (folder / f"report-{n}.md").write_text(
            f"---\ntitle: Report {n}\nauthor: Ops\ndomain: engineering\npublished_at: 2024-03-12T09:00:00Z\naccess: [public]\n---\n"
            + body
            + "\n\n".join(refs)
            + "\n"
        )
    overrides = {
        "storage.data_dir": str(root / f"data-{images}"),
        "database.schema_name": f"bench_assets_{images}_{uuid.uuid4().hex[:6]}",
    }
    with Components(
        load_settings(overrides=overrides, environ={k: v for k, v in os.environ.items() if k == "QUARRY_DATABASE_URL"})
    ) as components:
        components.embedder.load()
        started = time.perf_counter()
        result = components.ingestor.ingest_paths([folder])
        seconds = time.perf_counter() - started
        components.db.drop_schema()
    assert not result.refused, result.refused[:1]
    return {
        "documents": result.ingested,
        "images": result.assets_written,
        "chunks": result.chunks_written,
        "seconds": round(seconds, 2),
        "documents_per_s": round(result.ingested / seconds, 1),
        "embed_seconds": round(result.embed_seconds, 2),
        "store_seconds": round(result.store_seconds, 2),
        "image_bytes": blob_bytes,
    }


def report(results: dict) -> None:
    t = results["throughput"]
    print("\n### A. Ingest throughput (same documents, same run)\n")
    print("| corpus | documents | images | chunks | seconds | documents/s | embedding s | storing s (incl. blobs) |")
    print("|---|---|---|---|---|---|---|---|")
    for label, key in (("text only", "text_only"), ("2 images each", "with_images")):
        r = t[key]
        print(
            f"| {label} | {r['documents']} | {r['images']} | {r['chunks']} | {r['seconds']} | {r['documents_per_s']} "
            f"| {r['embed_seconds']} | {r['store_seconds']} |"
        )
    ratio = t["with_images"]["documents_per_s"] / t["text_only"]["documents_per_s"]
    print(f"\nWith images: {ratio:.2f}× the text-only throughput.")
    k = results["kill_loop"]
    print(f"\n### B. Kill loop ({k['iterations']} SIGKILLs of `quarry ingest`, {k['seconds']} s)\n")
    print(
        "| kills | while writing | finished first | document checks whole / absent | half-written | orphan blobs before gc (total, max) | after gc |"
    )
    print("|---|---|---|---|---|---|---|")
    print(
        f"| {k['iterations']} | {k['killed_while_writing']} | {k['finished_before_kill']} | {k['document_checks_whole']} / "
        f"{k['document_checks_absent']} | {k['half_written']} | {k['orphans_before_gc_total']}, {k['orphans_before_gc_max']} "
        f"| {k['orphans_after_gc_total']} |"
    )


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


if __name__ == "__main__":
    sys.exit(main())
