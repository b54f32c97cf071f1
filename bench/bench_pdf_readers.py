"""Benchmark: which PDF text reader Quarry uses, measured on the 31 sample PDFs.

Run: `python -m bench.bench_pdf_readers [--samples DIR] [--out FILE]`. Prints a Markdown table and
writes JSON (default bench/out/bench_pdf_readers.json). Skips cleanly when the samples are absent.

Candidates: pypdfium2 (PDFium's text page), pypdf (`extract_text`), pdfminer.six (`extract_text`,
which pdfplumber builds on). For each: files read without error, pages/s over every readable
file (one pass each, after one warm-up file), peak RSS reading the 117-page script 009 in a child
process of its own, and fidelity checks:
- reading order on the two-column file 026: the end of the left column's first paragraph is followed
  by the start of the next left-column line, not by a right-column line (no interleaved columns);
- right-to-left Arabic in 015 (habibi.pdf): the word حبيبي appears in logical order (diacritics aside);
- ligatures: no U+FB00–FB06 presentation ligature left in the text of any file;
- hyphenation: words split at line ends ("con-\\nsectetuer") are recognisable as such (a soft-hyphen
  mark or "-\\n" between lower-case letters), so they can be joined.
"""

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import time
import unicodedata
from collections.abc import Callable, Iterator
from pathlib import Path

SAMPLES = Path(__file__).resolve().parents[2] / "shared" / "data" / "pdf-samples"
_LIGATURES = re.compile("[\ufb00-\ufb06]")
_ARABIC_MARKS = re.compile("[\u064b-\u065f]")


def _pdfium_pages(path: Path) -> Iterator[str]:
    import pypdfium2 as pdfium

    document = pdfium.PdfDocument(str(path))
    try:
        for index in range(len(document)):
            page = document[index]
            textpage = page.get_textpage()
            yield textpage.get_text_range()
            textpage.close()
            page.close()
    finally:
        document.close()


def _pypdf_pages(path: Path) -> Iterator[str]:
    import pypdf

    reader = pypdf.PdfReader(str(path))
    for page in reader.pages:
        yield page.extract_text()


def _pdfminer_pages(path: Path) -> Iterator[str]:
    from pdfminer.high_level import extract_pages
    from pdfminer.layout import LTTextContainer

    for layout in extract_pages(str(path)):
        yield "".join(element.get_text() for element in layout if isinstance(element, LTTextContainer))


READERS: dict[str, Callable[[Path], Iterator[str]]] = {
    "pypdfium2": _pdfium_pages,
    "pypdf": _pypdf_pages,
    "pdfminer.six": _pdfminer_pages,
}


def _read(reader: str, path: Path) -> tuple[list[str], float, str]:
    started = time.perf_counter()
    try:
        pages = list(READERS[reader](path))
    except Exception as exc:  # a benchmark records every failure instead of stopping
        return [], time.perf_counter() - started, f"{type(exc).__name__}: {str(exc)[:80]}"
    return pages, time.perf_counter() - started, ""


def _two_columns_in_order(text: str) -> bool:
    # Left column, first paragraph: "... adip-/iscing elit. Ut purus elit, vestibulum ut, placerat" is
    # followed on the next line by "ac, adipiscing vitae"; an interleaving reader puts right-column text between.
    flat = " ".join(text.split())
    left = flat.find("placerat")
    return left != -1 and flat[left : left + 40].replace("placerat ", "", 1).startswith("ac, adipiscing vitae")


def _arabic_in_order(text: str) -> bool:
    return "حبيبي" in _ARABIC_MARKS.sub("", unicodedata.normalize("NFKC", text))


def _hyphen_breaks(text: str) -> int:
    return len(re.findall(r"[a-zäöüß](?:-\r?\n|\ufffe\r?\n?)[a-zäöüß]", text))


def _peak_rss_child(reader: str, path: Path) -> float:
    code = (
        "from pathlib import Path\n"
        "from bench.bench_pdf_readers import _read, _vm_hwm_mb\n"
        f"pages, seconds, error = _read({reader!r}, Path({str(path)!r}))\n"
        "print(_vm_hwm_mb())\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=Path(__file__).parents[1]
    )
    return float(out.stdout.strip().splitlines()[-1])


def _vm_hwm_mb() -> float:
    """This process's peak RSS (VmHWM: reset at exec, unlike ru_maxrss, which a child inherits from its parent)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


_MODULES = {"pypdfium2": "pypdfium2", "pypdf": "pypdf", "pdfminer.six": "pdfminer.high_level"}


def _baseline_rss(reader: str) -> float:
    """Peak RSS of a child that imports the reader and reads nothing (what 009's peak is compared to)."""
    code = f"import {_MODULES[reader]}\nfrom bench.bench_pdf_readers import _vm_hwm_mb\nprint(_vm_hwm_mb())"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=Path(__file__).parents[1]
    )
    return float(out.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.bench_pdf_readers", description=__doc__.split("\n\n")[0])
    parser.add_argument("--samples", type=Path, default=SAMPLES)
    parser.add_argument("--out", type=Path, default=Path("bench/out/bench_pdf_readers.json"))
    args = parser.parse_args(argv)
    if not args.samples.is_dir():
        print(f"skipped: no samples at {args.samples}")
        return 0
    files = sorted(args.samples.rglob("*.pdf"))
    two_column = next(p for p in files if p.name == "multicolumn.pdf")
    arabic = next(p for p in files if p.name == "habibi.pdf")
    script = next(p for p in files if p.name == "GeoTopo-komprimiert.pdf")
    results: dict[str, dict[str, object]] = {}
    for reader in READERS:
        _read(reader, files[0])  # warm-up: imports and caches
        ok = failed = pages = ligatures = breaks = 0
        seconds = 0.0
        failures = []
        runs = []
        for path in files:
            texts, took, error = _read(reader, path)
            if error:
                failed += 1
                failures.append(f"{path.name}: {error}")
                continue
            ok += 1
            pages += len(texts)
            seconds += took
            runs.append(len(texts) / took if took else 0.0)
            joined = "\n".join(texts)
            ligatures += len(_LIGATURES.findall(joined))
            breaks += _hyphen_breaks(joined)
        columns = _two_columns_in_order("\n".join(_read(reader, two_column)[0]))
        rtl = _arabic_in_order("\n".join(_read(reader, arabic)[0]))
        script_pages, script_seconds, _ = _read(reader, script)
        results[reader] = {
            "files_ok": ok,
            "files_failed": failed,
            "failures": failures,
            "pages": pages,
            "pages_per_s": round(pages / seconds, 1) if seconds else 0.0,
            "median_file_pages_per_s": round(statistics.median(runs), 1) if runs else 0.0,
            "script_009_seconds": round(script_seconds, 2),
            "script_009_pages_per_s": round(len(script_pages) / script_seconds, 1) if script_seconds else 0.0,
            "peak_rss_009_mb": round(_peak_rss_child(reader, script), 1),
            "import_only_rss_mb": round(_baseline_rss(reader), 1),
            "two_columns_in_order_026": columns,
            "arabic_logical_order_015": rtl,
            "ligature_chars_left": ligatures,
            "line_end_hyphen_breaks_seen": breaks,
        }
    print(f"{len(files)} PDFs from {args.samples}; baseline: peak RSS of a child that only imports the reader\n")
    print(
        "| reader | files ok | pages/s (all) | 009: s | 009: peak RSS MB (import only) | 026 columns in order |"
        " 015 Arabic in order | ligature chars left | line-end hyphen breaks marked |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for reader, r in results.items():
        print(
            f"| {reader} | {r['files_ok']}/{len(files)} | {r['pages_per_s']} | {r['script_009_seconds']} |"
            f" {r['peak_rss_009_mb']} ({r['import_only_rss_mb']}) | {'yes' if r['two_columns_in_order_026'] else 'NO'} |"
            f" {'yes' if r['arabic_logical_order_015'] else 'NO'} | {r['ligature_chars_left']} |"
            f" {r['line_end_hyphen_breaks_seen']} |"
        )
        for failure in r["failures"]:  # type: ignore[attr-defined]
            print(f"    failed: {failure}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"machine": {"cpus": os.cpu_count()}, "readers": results}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
