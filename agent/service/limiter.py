"""Failed-authentication counting per client address: after `limit` failures within a minute the
address is answered 429 until its window ends. Only failures count, so a client with a good key is
never slowed; the clock is a constructor argument so a test can move time without sleeping."""

import threading
import time
from collections.abc import Callable

from quarry.errors import TooManyAuthFailures

WINDOW_SECONDS = 60.0
_MAX_TRACKED = 100_000
"""Addresses remembered at most; beyond this the oldest windows are forgotten (a flood of addresses
cannot grow memory without bound)."""


class FailureLimiter:
    def __init__(self, limit: int, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit
        self._clock = clock
        self._windows: dict[str, tuple[float, int]] = {}
        """address → (when its window started, failures in it)"""
        self._lock = threading.Lock()

    def check(self, address: str) -> None:
        """Raise TooManyAuthFailures when `address` has used up its failures for this window."""
        now = self._clock()
        with self._lock:
            started, failures = self._windows.get(address, (now, 0))
            if now - started >= WINDOW_SECONDS:
                self._windows.pop(address, None)
                return
        if failures >= self.limit:
            retry_after = max(1, round(WINDOW_SECONDS - (now - started)))
            raise TooManyAuthFailures(
                f"too many failed authentications from {address}: {failures} in the last minute; "
                f"try again in {retry_after} s with a valid key (quarry keys create)",
                retry_after=retry_after,
            )

    def fail(self, address: str) -> None:
        now = self._clock()
        with self._lock:
            started, failures = self._windows.get(address, (now, 0))
            if now - started >= WINDOW_SECONDS:
                started, failures = now, 0
            self._windows[address] = (started, failures + 1)
            if len(self._windows) > _MAX_TRACKED:
                oldest = min(self._windows, key=lambda a: self._windows[a][0])
                del self._windows[oldest]
