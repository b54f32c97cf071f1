"""Points inside a run where a test injects its fault, so the fault lands at the same place in the
run however fast or slow the machine is (never "after N ms" or "when the consumer sees an event":
a run's events reach the caller while the run goes on, so a fault fired from the event stream can
land anywhere, or after the run has finished).
"""

import threading
from collections.abc import Callable
from typing import Any


class FaultOnSearch:
    """An embedder that runs an armed fault when a run first embeds a search query, before that
    search touches the database; until the fault has finished, every other query embedding (the
    run's parallel search branches) waits, so the fault lands while the database is idle.

    Everything else (embed_documents, model_name, …) is the wrapped embedder's."""

    def __init__(self, embedder: Any) -> None:
        self._embedder = embedder
        self._lock = threading.Lock()
        self._fault: Callable[[], object] | None = None
        self.fired = 0

    def arm(self, fault: Callable[[], object]) -> None:
        """Run `fault` at the next query embedding (once); `fired` counts from here."""
        with self._lock:
            self._fault = fault
            self.fired = 0

    def embed_query(self, text: str) -> list[float]:
        with self._lock:
            fault, self._fault = self._fault, None
            if fault is not None:
                fault()
                self.fired += 1
        return self._embedder.embed_query(text)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._embedder, name)
