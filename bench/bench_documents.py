"""Benchmark: the 31 sample PDFs through Quarry's ingest pipeline, PDF throughput beside Markdown, memory.

Run: `python -m bench.bench_documents [--samples DIR] [--out FILE]`. Prints Markdown tables, writes JSON
(default bench/out/bench_documents.json). Skips cleanly when the samples are absent.

A. Every sample PDF loaded (read, metadata resolved), chunked, entity-extracted and stored in embedded
   PostgreSQL, one at a time: pages, characters, chunks, images in the file, figures stored as assets
   (an image of 100×100 px or more captioned by a "Figure N:" line on its page), seconds, outcome. Any exception escaping the loader counts as a traceback (the goal is 0).
B. Throughput excluding embedding: the ingestor runs with a constant embedder (no model), so the
   seconds are reading + chunking + extraction + storing. Baseline in the same run: the very text the
   PDFs yielded, written as Markdown files with front matter, through the same ingestor.
C. Peak RSS (VmHWM, in a child process each) loading and chunking 009 (117 pages), and two generated
   PDFs of 500 and 5,000 pages, against a child that only imports the loaders: memory that stays flat
   in the page count grows only with the text kept.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from quarry.agent.components import Components
from quarry.agent.settings import load_settings
from quarry.corpus.ingest import Ingestor
from quarry.corpus.loaders import Refusal, Skipped, load_paths

SAMPLES = Path(__file__).resolve().parents[2] / "shared" / "data" / "pdf-samples"
DEFAULTS = {"author": "Bench", "domain": "bench", "access": ["public"], "published_at": "2024-01-01"}


class ConstantEmbeddings:
    """An embedder that costs nothing: what is left of ingest time is everything but embedding."""

    def __init__(self, dimension: int) -> None:
        self.vector = [1.0] + [0.0] * (dimension - 1)

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return [self.vector for _ in texts]

    def embed_query(self, text: str) -> list[float]:
        return self.vector


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.bench_documents", description=__doc__.split("\n\n")[0])
    parser.add_argument("--samples", type=Path, default=SAMPLES)
    parser.add_argument("--out", type=Path, default=Path("bench/out/bench_documents.json"))
    args = parser.parse_args(argv)
    if not args.samples.is_dir():
        print(f"skipped: no samples at {args.samples}")
        return 0
    root = Path(tempfile.mkdtemp(prefix="quarry-bench-documents-"))
    files = sorted(args.samples.rglob("*.pdf"))
    overrides = {"storage.data_dir": str(root / "data"), "database.schema_name": f"bench_docs_{uuid.uuid4().hex[:6]}"}
    settings = load_settings(
        overrides=overrides, environ={k: v for k, v in os.environ.items() if k == "QUARRY_DATABASE_URL"}
    )
    with Components(settings) as components:
        ingestor = Ingestor(
            components.store,
            ConstantEmbeddings(settings.embedding.dimension),  # type: ignore[arg-type]
            settings.chunking,
            max_document_bytes=settings.ingest.max_document_bytes,
            blobs=components.blobs,
        )
        _warm_up(ingestor, root / "warm-up")
        rows = [_one_file(ingestor, path, args.samples) for path in files]
        markdown = _markdown_baseline(ingestor, rows, root / "markdown")
        components.db.drop_schema()
    memory = _memory(args.samples, root)
    results = {"machine": {"cpus": os.cpu_count()}, "files": rows, "markdown": markdown, "memory": memory}
    _report(results)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    return 0


def _warm_up(ingestor: Ingestor, folder: Path) -> None:
    """Load the tokenizer, the extractor and the PDF reader once, so the first timed file does not pay for them."""
    from tests.support.document_files import make_pdf

    folder.mkdir(parents=True)
    make_pdf(folder / "warm-up.pdf", ["Warm-up page. Nothing to see here."], title="Warm-up", author="Bench")
    ingestor.ingest_paths([folder], defaults=DEFAULTS)


def _one_file(ingestor: Ingestor, path: Path, samples: Path) -> dict[str, Any]:
    row: dict[str, Any] = {
        "file": str(path.relative_to(samples)),
        "pages": 0,
        "characters": 0,
        "chunks": 0,
        "figures": 0,
    }
    row["images"] = _images(path)
    started = time.perf_counter()
    try:
        [result] = [r for r in load_paths([path], defaults=DEFAULTS) if not isinstance(r, Skipped)]
        row["load_seconds"] = time.perf_counter() - started
        if isinstance(result, Refusal):
            row["outcome"] = f"refused: {result.reason}"
        else:
            report = ingestor.ingest_documents([result])
            row.update(
                pages=len(result.page_starts),
                characters=len(result.text),
                chunks=report.chunks_written,
                figures=report.assets_written,
                embed_seconds=report.embed_seconds,
                text=result.text,
                outcome="ingested" if report.ingested else f"not stored: {report.refused[:1]}",
            )
    except Exception as exc:  # the benchmark counts what escapes instead of stopping
        row["outcome"] = f"TRACEBACK {type(exc).__name__}: {exc}"
    row["seconds"] = time.perf_counter() - started
    return row


def _images(path: Path) -> int | str:
    import pypdfium2 as pdfium
    import pypdfium2.raw as raw

    try:
        document = pdfium.PdfDocument(str(path))
    except pdfium.PdfiumError:
        return "-"
    try:
        return sum(
            len(list(document[i].get_objects(filter=[raw.FPDF_PAGEOBJ_IMAGE], max_depth=2)))
            for i in range(len(document))
        )
    finally:
        document.close()


def _markdown_baseline(ingestor: Ingestor, rows: list[dict[str, Any]], folder: Path) -> dict[str, Any]:
    folder.mkdir(parents=True)
    for n, row in enumerate(r for r in rows if r.get("text")):
        front = "---\ntitle: Markdown copy {n}\nauthor: Bench\ndomain: bench\npublished_at: 2024-01-01\naccess: [public]\n---\n"
        (folder / f"copy-{n}.md").write_text(front.format(n=n) + row["text"])
    started = time.perf_counter()
    report = ingestor.ingest_paths([folder])
    seconds = time.perf_counter() - started - report.embed_seconds
    characters = sum(len(r["text"]) for r in rows if r.get("text"))
    return {
        "documents": report.ingested,
        "chunks": report.chunks_written,
        "characters": characters,
        "seconds": seconds,
    }


_CHILD = """
import sys
from pathlib import Path
from bench.bench_pdf_readers import _vm_hwm_mb
from quarry.corpus.config import ChunkingConfig
from quarry.corpus.loaders import load_paths
from quarry.corpus.provenance import layout_chunks
if sys.argv[1] != "-":
    [doc] = load_paths([Path(sys.argv[1])], defaults={defaults!r})
    chunks = layout_chunks(doc, ChunkingConfig())
    print(_vm_hwm_mb(), len(doc.page_starts), len(doc.text), len(chunks))
else:
    print(_vm_hwm_mb(), 0, 0, 0)
"""


def _memory(samples: Path, root: Path) -> list[dict[str, Any]]:
    from tests.support.document_files import make_many_page_pdf

    targets = [("imports only", "-")]
    script = next(samples.rglob("GeoTopo-komprimiert.pdf"), None)
    if script is not None:
        targets.append(("009 GeoTopo (117 pages)", str(script)))
    for pages in (500, 5000):
        targets.append((f"generated, {pages:,} pages", str(make_many_page_pdf(root / f"pages-{pages}.pdf", pages))))
    out = []
    for label, target in targets:
        started = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-c", _CHILD.format(defaults=DEFAULTS), target],
            capture_output=True,
            text=True,
            check=True,
            cwd=Path(__file__).parents[1],
        )
        seconds = time.perf_counter() - started
        peak, pages, characters, chunks = done.stdout.split()
        out.append(
            {
                "what": label,
                "peak_rss_mb": float(peak),
                "pages": int(pages),
                "characters": int(characters),
                "chunks": int(chunks),
                "child_seconds": round(seconds, 2),
            }
        )
    return out


def _report(results: dict[str, Any]) -> None:
    rows = results["files"]
    print("\n### A. The 31 sample PDFs through the ingest pipeline (constant embedder)\n")
    print("| file | pages | characters | chunks | images in file | figures stored | seconds | outcome |")
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['file']} | {r['pages']} | {r['characters']:,} | {r['chunks']} | {r['images']} | {r['figures']} | {r['seconds']:.3f} "
            f"| {r['outcome']} |"
        )
    ingested = [r for r in rows if r["outcome"] == "ingested"]
    tracebacks = sum(1 for r in rows if r["outcome"].startswith("TRACEBACK"))
    print(
        f"\n{len(ingested)} ingested, {len(rows) - len(ingested) - tracebacks} refused with a reason, "
        f"{tracebacks} tracebacks."
    )
    pages = sum(r["pages"] for r in ingested)
    characters = sum(r["characters"] for r in ingested)
    seconds = sum(r["seconds"] - r.get("embed_seconds", 0.0) for r in ingested)
    md = results["markdown"]
    print("\n### B. Throughput excluding embedding (same run, same text)\n")
    print("| path | documents | pages | characters | chunks | seconds | pages/s | characters/s |")
    print("|---|---|---|---|---|---|---|---|")
    print(
        f"| PDF (read + chunk + extract + store) | {len(ingested)} | {pages} | {characters:,} | "
        f"{sum(r['chunks'] for r in ingested)} | {seconds:.2f} | {pages / seconds:.1f} | {characters / seconds:,.0f} |"
    )
    loading = sum(r["load_seconds"] for r in ingested)
    print(
        f"| PDF reading alone (text, pages, metadata) | {len(ingested)} | {pages} | {characters:,} | - | "
        f"{loading:.2f} | {pages / loading:.1f} | {characters / loading:,.0f} |"
    )
    print(
        f"| Markdown, the same text | {md['documents']} | - | {md['characters']:,} | {md['chunks']} | "
        f"{md['seconds']:.2f} | - | {md['characters'] / md['seconds']:,.0f} |"
    )
    script = next((r for r in ingested if r["file"].endswith("GeoTopo-komprimiert.pdf")), None)
    if script:
        print(
            f"\n009 alone: {script['pages']} pages in {script['seconds']:.2f} s = "
            f"{script['pages'] / script['seconds']:.1f} pages/s (read + chunk + extract + store)."
        )
    print("\n### C. Peak RSS loading and chunking one PDF (child process each)\n")
    print("| what | pages | characters | chunks | peak RSS MB | child s (incl. start-up) |")
    print("|---|---|---|---|---|---|")
    for m in results["memory"]:
        print(
            f"| {m['what']} | {m['pages']:,} | {m['characters']:,} | {m['chunks']:,} | {m['peak_rss_mb']:.1f} "
            f"| {m['child_seconds']} |"
        )
    for r in rows:
        r.pop("text", None)


if __name__ == "__main__":
    raise SystemExit(main())
