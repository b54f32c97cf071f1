"""The research engine on an Assistant's own event loop: what `Assistant` and `Session` both call.

Each method takes one `ResearchRequest` and runs it through the engine on the loop thread (see
agent/loop.py), whether the caller is synchronous, on its own loop, or in a notebook.
"""

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import replace

from quarry.agent.components import Components
from quarry.agent.filter_spelling import as_stored
from quarry.agent.loop import LoopThread
from quarry.graph.answer import Answer
from quarry.graph.engine import Engine, ResearchRequest
from quarry.graph.events import FinalAnswer, RunEvent

AfterAnswer = Callable[[Answer], None]
"""Called (in a worker thread) once the run's answer is final, before the FinalAnswer is handed on."""


class EngineLoop:
    def __init__(self, components: Components, loop: LoopThread | None = None) -> None:
        self.components = components
        self.loop = loop or LoopThread()
        self._warm = False

    def ask(self, request: ResearchRequest, *, after: AfterAnswer | None = None) -> Answer:
        return self.loop.run(self._answer(request, after))

    async def aask(self, request: ResearchRequest, *, after: AfterAnswer | None = None) -> Answer:
        return await self.loop.arun(self._answer(request, after))

    def stream(self, request: ResearchRequest, *, after: AfterAnswer | None = None) -> Iterator[RunEvent]:
        return self.loop.iterate(self._events(request, after))

    def astream(self, request: ResearchRequest, *, after: AfterAnswer | None = None) -> AsyncIterator[RunEvent]:
        return self.loop.aiterate(self._events(request, after))

    def close(self) -> None:
        """Close the engine's model clients on the loop (if it was ever built), then stop the loop."""
        if self.components.engine_built:
            self.loop.run(self.components.engine.aclose())
        self.loop.close()

    # -- on the loop ------------------------------------------------------------------------------

    async def _engine(self, request: ResearchRequest) -> Engine:
        # Start-up (the database, the model, the indexes) happens once, off the loop and before the
        # first run's clock starts, so that run's deadline is spent on its question.
        if not self._warm:
            await asyncio.to_thread(self.components.warm_up, request.principal)
            self._warm = True
        return await asyncio.to_thread(lambda: self.components.engine)

    async def _events(self, request: ResearchRequest, after: AfterAnswer | None) -> AsyncIterator[RunEvent]:
        engine = await self._engine(request)
        filters = await asyncio.to_thread(as_stored, request.filters, self.components.store)
        async for event in engine.stream(replace(request, filters=filters)):
            if after is not None and isinstance(event, FinalAnswer):
                await asyncio.to_thread(after, event.answer)
            yield event

    async def _answer(self, request: ResearchRequest, after: AfterAnswer | None) -> Answer:
        answer: Answer | None = None
        async for event in self._events(request, after):  # to the end: the run's clean-up included
            if isinstance(event, FinalAnswer):
                answer = event.answer
        if answer is None:
            raise AssertionError("a run always ends with its final answer")
        return answer
