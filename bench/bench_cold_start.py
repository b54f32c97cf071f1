"""Benchmark: the cold start of `quarry search "settlement outage"` over the 32-document sample corpus.

Run: `python -m bench.bench_cold_start [--rounds 3] [--baseline REF] [--out FILE]`.
Prints a Markdown table, writes JSON (default bench/out/bench_cold_start.json).

Each variant runs in fresh processes (embedded PostgreSQL started and stopped by each, as a user's
command does), one untimed warm-up (bytecode, page cache, the one-time ONNX export) then `--rounds`
timed runs, the variants interleaved round by round so machine load falls on all alike. Reported:
median wall time and median peak RSS (the child's own, from wait4), with min–max. Variants:

  before     the code at --baseline (default: the commit before the ONNX runtime), checked out from
             git into a temporary tree: eager imports, sentence-transformers
  torch      this checkout with embedding.runtime: torch (lazy imports only)
  onnx       this checkout with embedding.runtime: onnx, the default (lazy imports, no torch)

Also the import cost alone of sentence_transformers, torch, and onnxruntime + tokenizers.
"""

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from tests.support.cli_env import quarry_env

REPO = Path(__file__).resolve().parents[1]
QUERY = "settlement outage"
FOLDERS = ("agent", "graph", "tools", "corpus", "eval")


@dataclass(frozen=True, kw_only=True)
class Figures:
    wall_s: list[float]
    cpu_s: list[float]
    """User + system CPU seconds: less sensitive than wall time to other work on a shared machine."""
    rss_mb: list[float]

    @property
    def summary(self) -> dict[str, float]:
        return {
            "wall_s_median": statistics.median(self.wall_s),
            "wall_s_min": min(self.wall_s),
            "wall_s_max": max(self.wall_s),
            "cpu_s_median": statistics.median(self.cpu_s),
            "rss_mb_median": statistics.median(self.rss_mb),
        }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.bench_cold_start", description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--baseline", default=None, help="git ref of the 'before' code (default: see above)")
    parser.add_argument("--out", type=Path, default=Path("bench/out/bench_cold_start.json"))
    args = parser.parse_args(argv)
    root = Path(tempfile.mkdtemp(prefix="quarry-bench-cold-"))
    baseline = args.baseline or _default_baseline()
    data = root / "data"
    common = {"QUARRY_DATA_DIR": str(data), "QUARRY_EMBEDDING__ONNX_CACHE_DIR": str(root / "onnx")}
    say("ingesting the sample corpus…")
    _run(
        [sys.executable, "-m", "quarry.agent.cli.main", "ingest", str(REPO / "examples" / "corpus"), "--quiet"],
        quarry_env(**common),
        root,
    )
    search = ["-m", "quarry.agent.cli.main", "search", QUERY, "--k", "5"]
    variants: dict[str, tuple[list[str], dict[str, str]]] = {
        "onnx": ([sys.executable, *search], quarry_env(**common, QUARRY_EMBEDDING__RUNTIME="onnx")),
        "torch": ([sys.executable, *search], quarry_env(**common, QUARRY_EMBEDDING__RUNTIME="torch")),
    }
    if baseline:
        tree = _checkout(baseline, root / "baseline")
        env = quarry_env(QUARRY_DATA_DIR=str(data))
        env["PYTHONPATH"] = str(tree)
        variants = {"before": ([sys.executable, *search], env), **variants}
    load_before = os.getloadavg()
    first: dict[str, float] = {}
    for name, (command, env) in variants.items():
        say(f"{name}: warm-up run (the onnx one exports the model once)…")
        first[name] = _measure(command, env, root)[0]
    figures: dict[str, Figures] = {name: Figures(wall_s=[], cpu_s=[], rss_mb=[]) for name in variants}
    for round_number in range(1, args.rounds + 1):
        for name, (command, env) in variants.items():
            wall, cpu, rss = _measure(command, env, root)
            figures[name].wall_s.append(wall)
            figures[name].cpu_s.append(cpu)
            figures[name].rss_mb.append(rss)
        say(f"round {round_number}/{args.rounds} done")
    imports = {
        "sentence_transformers": _import_cost("sentence_transformers", root, args.rounds),
        "torch": _import_cost("torch", root, args.rounds),
        "onnxruntime + tokenizers": _import_cost("onnxruntime, tokenizers", root, args.rounds),
    }
    results = {
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform()},
        "load_average_before": load_before,
        "load_average_after": os.getloadavg(),
        "command": f'quarry search "{QUERY}" --k 5',
        "baseline": baseline,
        "rounds": args.rounds,
        "warm_up_s": first,
        "variants": {name: {**asdict(f), **f.summary} for name, f in figures.items()},
        "imports": {name: asdict(f) | f.summary for name, f in imports.items()},
    }
    print(_table(results, figures, imports))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2))
    say(f"wrote {args.out}")
    return 0


def _measure(command: list[str], env: dict[str, str], cwd: Path) -> tuple[float, float, float]:
    """Wall seconds, CPU seconds and peak RSS (MB) of one fresh process, which must succeed."""
    start = time.perf_counter()
    child = subprocess.Popen(command, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    assert child.stderr is not None
    errors = child.stderr.read()
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - start
    child.returncode = os.waitstatus_to_exitcode(status)
    child.stderr.close()
    if child.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed ({child.returncode}):\n{errors.decode(errors='replace')}")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024  # Linux reports KiB


def _import_cost(modules: str, cwd: Path, rounds: int) -> Figures:
    figures = Figures(wall_s=[], cpu_s=[], rss_mb=[])
    _measure([sys.executable, "-c", f"import {modules}"], quarry_env(), cwd)  # warm the page cache
    for _ in range(rounds):
        wall, cpu, rss = _measure([sys.executable, "-c", f"import {modules}"], quarry_env(), cwd)
        figures.wall_s.append(wall)
        figures.cpu_s.append(cpu)
        figures.rss_mb.append(rss)
    return figures


def _default_baseline() -> str | None:
    """The parent of the commit that added the ONNX runtime; HEAD while it is not committed yet."""
    try:
        added = subprocess.run(
            ["git", "log", "--diff-filter=A", "--format=%H", "--", "corpus/onnx_embed.py"],
            cwd=REPO,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.split()
    except (OSError, subprocess.CalledProcessError):
        return None  # not a git checkout: no 'before'
    return f"{added[-1]}^" if added else "HEAD"


def _checkout(ref: str, folder: Path) -> Path:
    """The code at `ref` as an importable `quarry` package (the repository's folders as sub-packages,
    as the wheel lays them out), for PYTHONPATH."""
    source = folder / "src"
    source.mkdir(parents=True)
    archive = subprocess.run(["git", "archive", ref], cwd=REPO, capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(source)], input=archive, check=True)
    tree = folder / "tree"
    package = tree / "quarry"
    package.mkdir(parents=True)
    for file in (source / "quarry").glob("*.py"):
        (package / file.name).symlink_to(file)
    for name in FOLDERS:
        (package / name).symlink_to(source / name, target_is_directory=True)
    return tree


def _run(command: list[str], env: dict[str, str], cwd: Path) -> None:
    done = subprocess.run(command, env=env, cwd=cwd, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{done.stderr}")


def _table(results: dict, figures: dict[str, Figures], imports: dict[str, Figures]) -> str:
    rows = [
        f"`{results['command']}`, fresh process each, median of {results['rounds']} "
        f"(load average {results['load_average_before'][0]:.1f} before, {results['load_average_after'][0]:.1f} after)",
        "",
        "| variant | wall s (median) | min–max | CPU s (median) | peak RSS MB (median) | first run s |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name, f in figures.items():
        s = f.summary
        rows.append(
            f"| {name} | {s['wall_s_median']:.2f} | {s['wall_s_min']:.2f}–{s['wall_s_max']:.2f} "
            f"| {s['cpu_s_median']:.2f} | {s['rss_mb_median']:.0f} | {results['warm_up_s'][name]:.2f} |"
        )
    rows += ["", "| import alone | wall s (median) | CPU s (median) | peak RSS MB |", "|---|---:|---:|---:|"]
    for name, f in imports.items():
        s = f.summary
        rows.append(
            f"| `import {name}` | {s['wall_s_median']:.2f} | {s['cpu_s_median']:.2f} | {s['rss_mb_median']:.0f} |"
        )
    return "\n".join(rows)


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


if __name__ == "__main__":
    raise SystemExit(main())
