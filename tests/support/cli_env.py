"""The environment a `quarry` subprocess runs in for tests and benchmarks: the caller's, without its
QUARRY_* settings (so only what is passed applies), with this checkout on PYTHONPATH."""

import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def quarry_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("QUARRY_")}
    env["PYTHONPATH"] = str(REPO)
    env.update(extra)
    return env
