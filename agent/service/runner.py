"""One research request over HTTP: answered as JSON, or streamed as Server-Sent Events.

The run goes on in a task of its own (tracked by InFlight), fed to the response through a queue.
A client that closes its stream cancels that task; the engine then records the run as cancelled.
Shutdown waits for these tasks within their deadlines.
"""

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse, StreamingResponse

from quarry.agent.filter_spelling import as_stored
from quarry.agent.service.events import ERROR_EVENT, event_json, sse_bytes
from quarry.agent.service.problems import code_of
from quarry.agent.service.state import ServiceState
from quarry.errors import QuarryError, ServiceUnreachable
from quarry.graph.engine import ResearchRequest
from quarry.graph.events import FinalAnswer, RunEvent

_END = object()


class _Failed:
    def __init__(self, error: BaseException) -> None:
        self.error = error


def wants_events(request: Request) -> bool:
    return "text/event-stream" in request.headers.get("accept", "")


async def respond(request: Request, state: ServiceState, research: ResearchRequest) -> JSONResponse | StreamingResponse:
    """The run's answer as JSON (`quarry ask --json`'s object), or its events as SSE when the client accepts them."""
    if state.draining:
        raise ServiceUnreachable("the service is shutting down; retry against another instance or after it restarts")
    queue: asyncio.Queue[Any] = asyncio.Queue()
    started = time.perf_counter()
    streaming = wants_events(request)
    if streaming:  # an event stream also carries a streaming model's draft as `text_delta` events
        research = replace(research, stream_text=True)
    task = state.inflight.start(_pump(state, research, queue))
    if streaming:
        return StreamingResponse(
            _stream(queue, task),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )
    try:
        while (item := await queue.get()) is not _END:
            if isinstance(item, _Failed):
                raise item.error
            if isinstance(item, FinalAnswer):
                # The engine's share of the response time: a client subtracts it to see the HTTP path's cost.
                engine_ms = (time.perf_counter() - started) * 1000
                return JSONResponse(item.answer.dump(), headers={"Server-Timing": f"engine;dur={engine_ms:.3f}"})
    finally:
        if not task.done():
            task.cancel()
    raise AssertionError("a run always ends with its final answer")


async def _pump(state: ServiceState, research: ResearchRequest, queue: "asyncio.Queue[Any]") -> None:
    try:
        engine = state.components.engine
        filters = await asyncio.to_thread(as_stored, research.filters, state.components.store)
        async for event in engine.stream(replace(research, filters=filters)):
            queue.put_nowait(event)
    except asyncio.CancelledError:
        raise
    except BaseException as error:
        queue.put_nowait(_Failed(error))
    finally:
        queue.put_nowait(_END)


async def _stream(queue: "asyncio.Queue[Any]", task: "asyncio.Task[Any]") -> AsyncIterator[bytes]:
    try:
        while (item := await queue.get()) is not _END:
            if isinstance(item, _Failed):
                yield sse_bytes(ERROR_EVENT, _error_payload(item.error))
                continue
            event: RunEvent = item
            yield sse_bytes(*event_json(event))
    finally:
        if not task.done():  # the client left mid-run: cancel it (the engine records it as cancelled)
            task.cancel()


def _error_payload(error: BaseException) -> dict[str, Any]:
    if isinstance(error, QuarryError):
        field = getattr(error, "field", None)
        return {
            "error": {
                "code": code_of(type(error)),
                "message": str(error),
                "field": field if isinstance(field, str) else None,
                "status": int(error.http_status),
            }
        }
    return {"error": {"code": "internal_error", "message": "the run failed unexpectedly", "field": None, "status": 500}}
