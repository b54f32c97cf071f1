"""`quarry ask` spends its deadline on research, not on start-up, and neither prints nor exits late
because of work a run abandoned at its deadline. Driven by events in the run, not by timing: an
embedder that records whether the model was loaded when the run started, and that holds the run's
first query embedding until the run has finished (so that call is abandoned at the deadline)."""

import threading
import time
from typing import Any

import pytest

from quarry.agent.cli.ask import answer_after_start_up
from quarry.agent.components import Components
from quarry.agent.settings import Settings
from quarry.corpus.config import EmbeddingConfig
from quarry.corpus.embed import LocalEmbeddings
from quarry.corpus.filters import Principal
from quarry.graph.budget.limits import Limits
from quarry.graph.engine import ResearchRequest
from quarry.graph.events import FinalAnswer, NodeFinished, RunEvent
from tests.support.helpers import make_document

pytestmark = pytest.mark.integration


class HeldQueryEmbedder:
    """A real, not yet loaded model whose query embeddings wait for `release` once `hold` is set."""

    def __init__(self) -> None:
        self.model = LocalEmbeddings(EmbeddingConfig())
        self.hold = threading.Event()
        self.release = threading.Event()
        self.held = 0

    def embed_query(self, text: str) -> list[float]:
        if self.hold.is_set():
            self.held += 1
            self.release.wait()
        return self.model.embed_query(text)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.model, name)


def test_start_up_is_warm_before_the_run_clock_and_abandoned_work_holds_up_nothing(
    settings: Settings, embedder: LocalEmbeddings
):
    with Components(settings, environ={}, embedder=embedder) as writer:  # the session's loaded model ingests
        texts = ("Ledgerline is owned by Payments Core.", "Payments Core is led by Dana Okafor.")
        writer.ingestor.ingest_documents([make_document(f"doc{n}", text) for n, text in enumerate(texts)])
    held = HeldQueryEmbedder()
    components = Components(settings, environ={}, embedder=held)  # type: ignore[arg-type]
    try:
        assert not held.model.loaded
        seen: dict[str, Any] = {}
        before = {t.ident for t in threading.enumerate()}

        def ready(startup_s: float) -> None:
            seen["ready"] = (startup_s, held.model.loaded, components.bm25.last_build_source)
            held.hold.set()  # from here on the run's clock runs: its query embedding is held

        def on_event(event: RunEvent) -> None:
            seen.setdefault("first_event", type(event).__name__)
            if (isinstance(event, NodeFinished) and event.span.node == "finalize") or isinstance(event, FinalAnswer):
                if "at_finalize" not in seen:
                    seen["at_finalize"] = [
                        t.name for t in threading.enumerate() if t.ident not in before and t.is_alive() and not t.daemon
                    ]
                    seen["held_then"] = held.held
                held.release.set()

        request = ResearchRequest(
            question="Who leads the team that owns Ledgerline?",
            budget=Limits(max_seconds=1.0),
            principal=Principal(id="cli"),
            use_cache=False,
        )
        answer, startup_s = answer_after_start_up(
            components, request, started=time.perf_counter(), on_ready=ready, on_event=on_event
        )
    finally:
        held.release.set()
        components.db.drop_schema()
        components.close()

    # Warm before the clock: the model and the BM25 index were loaded before the run's first event.
    assert seen["ready"][1:] == (True, "built") and startup_s == seen["ready"][0] > 0
    # The held embedding was abandoned at the deadline; the run still answered, partial, on time.
    assert seen["held_then"] == 1 and answer.partial and answer.stopped_by == "deadline"
    # The abandoned call runs on a daemon thread: nothing the interpreter would wait for at exit.
    assert seen["at_finalize"] == []
