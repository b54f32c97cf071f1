"""Pre-call token counts use tiktoken's cl100k, which is not Claude's tokenizer; a safety factor
scales them up, and observed usage raises the factor when the count proves too low."""

import threading

from quarry.corpus.tokens import count_tokens


class TokenEstimator:
    def __init__(self, safety_factor: float, *, margin: float = 1.05) -> None:
        self._factor = safety_factor
        self._margin = margin
        self._lock = threading.Lock()

    @property
    def factor(self) -> float:
        return self._factor

    def estimate(self, text: str) -> tuple[int, int]:
        """(raw cl100k count, upper estimate after the safety factor)."""
        raw = count_tokens(text)
        return raw, int(raw * self._factor) + 8

    def observe(self, counted: int, reported: int) -> None:
        """Raise the factor so that this call's reported count would have been covered, with a margin."""
        if counted <= 0:
            return
        needed = reported / counted * self._margin
        with self._lock:
            self._factor = max(self._factor, needed)
