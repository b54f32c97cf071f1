"""How late `quarry ask --max-seconds S` prints its answer and exits, measured from outside.

Run: `python -m bench.bench_deadline [--runs 3] [--seconds 2 5 10] [--out FILE]`.

Each run is a real `quarry ask` subprocess over the sample corpus (its own embedded PostgreSQL in a
temporary folder, the offline model, no cache). Its stdout and stderr are read line by line as they
arrive. The run's clock starts where its first progress line says ("[  0.02s] cache_lookup ok"
arrives 0.02 s after it started), which works for any version of the command; the deadline is that
start + S. Reported per S, median over runs (min–max in brackets): start-up (process start to the
run's start), answer overshoot (first stdout line − deadline), exit overshoot (process end −
deadline), and how many runs found evidence. To compare versions, run it on each checkout.
"""

import argparse
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from tests.support.cli_env import quarry_env

REPO = Path(__file__).resolve().parents[1]
QUESTION = "Who leads the team that owns the service that failed in the March 2024 settlement outage?"
PROGRESS = re.compile(r"^\[\s*([0-9.]+)s\] \w+")


@dataclass(frozen=True)
class Run:
    seconds: float
    startup_s: float
    answer_overshoot_s: float
    exit_overshoot_s: float
    evidence: bool
    exit_code: int


def ask_once(env: dict[str, str], seconds: float, cwd: Path) -> Run:
    started = time.monotonic()
    process = subprocess.Popen(
        [sys.executable, "-m", "quarry.agent.cli.main", "ask", QUESTION, "--max-seconds", str(seconds), "--no-cache"],
        env={**env, "PYTHONUNBUFFERED": "1"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=cwd,  # not the checkout: `python -m` puts the working directory first on sys.path
    )
    marks: dict[str, float] = {}
    out: list[str] = []
    err: list[str] = []

    def read(stream: object, name: str) -> None:
        for line in stream:  # type: ignore[attr-defined]
            now = time.monotonic() - started
            if name == "stdout":
                marks.setdefault("answer", now)
                out.append(line)
            else:
                err.append(line)
                if (match := PROGRESS.match(line)) and "run_start" not in marks:
                    marks["run_start"] = now - float(match.group(1))

    readers = [
        threading.Thread(target=read, args=(process.stdout, "stdout")),
        threading.Thread(target=read, args=(process.stderr, "stderr")),
    ]
    for reader in readers:
        reader.start()
    code = process.wait()
    ended = time.monotonic() - started
    for reader in readers:
        reader.join()
    if "run_start" not in marks or "answer" not in marks:
        raise RuntimeError(f"quarry ask exited {code} without a run: {''.join(err)[-2000:]}")
    deadline = marks["run_start"] + seconds
    text = "".join(out)
    return Run(
        seconds=seconds,
        startup_s=marks["run_start"],
        answer_overshoot_s=marks["answer"] - deadline,
        exit_overshoot_s=ended - deadline,
        evidence="No evidence was found" not in text and "Sources:" in text,
        exit_code=code,
    )


def _stat(values: list[float]) -> str:
    return f"{statistics.median(values):+.2f} [{min(values):+.2f}…{max(values):+.2f}]"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seconds", type=float, nargs="+", default=[2.0, 5.0, 10.0])
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "out" / "bench_deadline.json")
    parser.add_argument("--label", default="", help="what is measured (e.g. a commit), written into the JSON")
    parser.add_argument(
        "--code",
        type=Path,
        help="run the quarry package found here instead (a folder holding quarry/ in the wheel's layout, e.g. an "
        "older commit exported for a baseline); default: this checkout",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="quarry-deadline-") as tmp:
        env = quarry_env(QUARRY_DATA_DIR=str(Path(tmp) / "data"), QUARRY_PROVIDER="offline")
        if args.code is not None:
            env["PYTHONPATH"] = f"{args.code}{os.pathsep}{env['PYTHONPATH']}"
        ingest = subprocess.run(
            [sys.executable, "-m", "quarry.agent.cli.main", "ingest", str(REPO / "examples" / "corpus"), "--quiet"],
            env=env,
            capture_output=True,
            text=True,
            cwd=tmp,
        )
        if ingest.returncode != 0:
            print(ingest.stderr, file=sys.stderr)
            return 1
        runs = [ask_once(env, seconds, Path(tmp)) for _ in range(args.runs) for seconds in args.seconds]
    print(
        f"quarry ask --max-seconds S, {args.runs} run(s) each; seconds, median [min…max]; load {os.getloadavg()[0]:.1f}"
    )
    print("| S | start-up | answer − deadline | exit − deadline | found evidence | exit codes |")
    print("|---|---|---|---|---|---|")
    for seconds in args.seconds:
        mine = [r for r in runs if r.seconds == seconds]
        print(
            f"| {seconds:g} | {_stat([r.startup_s for r in mine])} | {_stat([r.answer_overshoot_s for r in mine])} | "
            f"{_stat([r.exit_overshoot_s for r in mine])} | {sum(r.evidence for r in mine)}/{len(mine)} | "
            f"{sorted({r.exit_code for r in mine})} |"
        )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(
        json.dumps(
            {
                "label": args.label,
                "machine": platform.platform(),
                "cpus": os.cpu_count(),
                "runs": [asdict(r) for r in runs],
            },
            indent=2,
        )
    )
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
