"""This process's memory over time, sampled on a thread of its own (bench/bench_load.py's soak)."""

import statistics
import threading
import time
from pathlib import Path


class MemorySampler:
    """(seconds, RSS MB, anonymous MB) of this process every `every` seconds, on a thread of its own."""

    def __init__(self, every: float) -> None:
        self.every = every
        self.samples: list[tuple[float, float, float]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="memory-sampler", daemon=True)
        self._t0 = time.monotonic()

    def start(self) -> "MemorySampler":
        self._sample()
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()
        self._sample()

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            self._sample()

    def _sample(self) -> None:
        rss, anon = memory_mb()
        self.samples.append((round(time.monotonic() - self._t0, 1), round(rss, 1), round(anon, 1)))


def memory_mb() -> tuple[float, float]:
    """This process's resident set size and its anonymous part (without file-backed and shared pages), in MB."""
    try:
        import psutil
    except ImportError:
        fields = dict(line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines() if ":" in line)
        rss = int(fields["VmRSS"].split()[0]) / 1024
        return rss, int(fields["RssAnon"].split()[0]) / 1024 if "RssAnon" in fields else rss
    info = psutil.Process().memory_info()
    return info.rss / 2**20, (info.rss - getattr(info, "shared", 0)) / 2**20


def slope_mb_per_minute(points: list[tuple[float, float]]) -> float:
    """Least-squares slope of (seconds, MB) points, in MB per minute."""
    if len({t for t, _ in points}) < 2:
        return 0.0
    return statistics.linear_regression([t for t, _ in points], [mb for _, mb in points]).slope * 60
