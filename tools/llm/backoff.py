"""The wait between retries of an online model call, shared by every client (Claude, OpenAI-compatible)."""

import random
import time


def backoff_delay(attempt: int, *, base_s: float, cap_s: float, rng: random.Random) -> float:
    """Exponential backoff with jitter: between half and all of min(cap, base · 2^(attempt−1)) seconds."""
    ceiling = min(cap_s, base_s * 2 ** (attempt - 1))
    return rng.uniform(ceiling / 2, ceiling)


def why_not_retry(attempt: int, *, max_attempts: int, delay: float, deadline: float) -> str | None:
    """None when another attempt fits (attempts left, and the wait ends before the deadline); else why not."""
    if attempt >= max_attempts:
        return "retries exhausted"
    if time.monotonic() + delay >= deadline:
        return "no time left for another"
    return None
