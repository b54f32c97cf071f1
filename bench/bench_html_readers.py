"""Benchmark: which HTML main-content reader Quarry uses, measured on generated pages with boilerplate.

Run: `python -m bench.bench_html_readers [--pages 300] [--out FILE]`. Prints a Markdown table and writes
JSON (default bench/out/bench_html_readers.json). trafilatura is measured when installed
(`pip install -e '.[readers-bench]'`), and skipped otherwise.

Each page has a navigation bar, a cookie banner script, an aside of related links, a footer, and a
<main> of 3–8 sections (an <h2> and 1–4 paragraphs each, one inside a <div> without <p>). Measured:
main-content sentences recovered (recall), boilerplate strings leaked into the text, whether each
section's heading can be told from body text (needed for `Methods › Sampling` provenance), ms per page.
"""

import argparse
import json
import random
import statistics
import time
from collections.abc import Callable
from pathlib import Path

WORDS = (
    "tide buoy harbour survey mooring salinity current storm sample station sensor depth wave north pier "
    "channel vessel crew shore record weekly drift array anchor signal chart reef basin"
).split()
BOILERPLATE = (
    "Home",
    "About us",
    "Subscribe to our newsletter",
    "Accept all cookies",
    "Related stories",
    "© Harbour Press",
)


def _sentence(rng: random.Random) -> str:
    words = [rng.choice(WORDS) for _ in range(rng.randint(8, 16))]
    return " ".join(words).capitalize() + f" {rng.randint(100, 999)}."


def make_page(rng: random.Random) -> tuple[str, list[str], list[str]]:
    sentences: list[str] = []
    headings: list[str] = []
    body = []
    for s in range(rng.randint(3, 8)):
        heading = f"Section {s + 1} {rng.choice(WORDS).title()}"
        headings.append(heading)
        body.append(f"<h2>{heading}</h2>")
        for p in range(rng.randint(1, 4)):
            text = " ".join(_sentence(rng) for _ in range(rng.randint(1, 3)))
            sentences.extend(part.strip() + "." for part in text.split(".") if part.strip())
            body.append(f"<div class=note>{text}</div>" if p == 0 and s == 0 else f"<p>{text}</p>")
    page = (
        "<!doctype html><html><head><title>Harbour report</title></head><body>"
        "<nav><a href=/>Home</a> <a href=/about>About us</a></nav>"
        "<div id=cookie><script>showBanner('Accept all cookies')</script></div>"
        f"<main><h1>Harbour report</h1>{''.join(body)}</main>"
        "<aside><h3>Related stories</h3><ul><li><a href=/a>Subscribe to our newsletter</a></li></ul></aside>"
        "<footer>© Harbour Press</footer></body></html>"
    )
    return page, sentences, headings


def _selectolax(page: str) -> tuple[str, set[str]]:
    from quarry.corpus.readers.html import read_html

    extracted = read_html(page.encode(), "bench.html")
    return extracted.text, {path.rsplit(" › ", 1)[-1] for _, path in extracted.sections}


def _trafilatura(page: str) -> tuple[str, set[str]]:
    import trafilatura

    text = trafilatura.extract(page, output_format="markdown", include_formatting=True, favor_recall=True) or ""
    headings = {line.lstrip("#").strip() for line in text.splitlines() if line.startswith("#")}
    return text, headings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.bench_html_readers", description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=int, default=300)
    parser.add_argument("--out", type=Path, default=Path("bench/out/bench_html_readers.json"))
    args = parser.parse_args(argv)
    rng = random.Random(15)
    pages = [make_page(rng) for _ in range(args.pages)]
    readers: dict[str, Callable[[str], tuple[str, set[str]]]] = {"selectolax (Quarry's reader)": _selectolax}
    try:
        import trafilatura  # noqa: F401

        readers["trafilatura (markdown)"] = _trafilatura
    except ImportError:
        print("trafilatura not installed: measured selectolax only")
    results = {}
    for name, read in readers.items():
        read(pages[0][0])  # warm-up
        recall, leaks, heading_hits, times = [], 0, [], []
        for page, sentences, headings in pages:
            started = time.perf_counter()
            text, found = read(page)
            times.append(time.perf_counter() - started)
            flat = " ".join(text.split())
            recall.append(sum(1 for s in sentences if s in flat) / len(sentences))
            leaks += sum(1 for b in BOILERPLATE if b in text)
            heading_hits.append(len(set(headings) & found) / len(headings))
        results[name] = {
            "pages": len(pages),
            "sentence_recall": round(statistics.mean(recall), 4),
            "pages_with_full_recall": sum(1 for r in recall if r == 1.0),
            "boilerplate_leaks": leaks,
            "headings_as_headings": round(statistics.mean(heading_hits), 4),
            "ms_per_page_median": round(statistics.median(times) * 1000, 2),
        }
    print(f"\n{args.pages} generated pages (seed 15)\n")
    print(
        "| reader | sentence recall | pages fully recovered | boilerplate strings leaked | headings kept as headings | ms/page (median) |"
    )
    print("|---|---|---|---|---|---|")
    for name, r in results.items():
        print(
            f"| {name} | {r['sentence_recall']:.2%} | {r['pages_with_full_recall']}/{r['pages']} | {r['boilerplate_leaks']} "
            f"| {r['headings_as_headings']:.0%} | {r['ms_per_page_median']} |"
        )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
