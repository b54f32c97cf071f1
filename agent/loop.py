"""One event loop per Assistant, on its own thread.

The Claude client keeps HTTP connections bound to the loop that opened them, so every run of an
Assistant — from the sync API, from the caller's own loop, or from a notebook whose loop is already
running — executes on this one loop. Sync calls block on it; async calls await it without blocking
the caller's loop; cancelling the caller cancels the run.
"""

import asyncio
import queue
import threading
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from concurrent.futures import Future
from typing import Any, TypeVar

T = TypeVar("T")
_END = object()


class _Failure:
    def __init__(self, error: BaseException) -> None:
        self.error = error


class LoopThread:
    def __init__(self, name: str = "quarry-loop") -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name=name, daemon=True)
        self._thread.start()

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        """Run `coro` to completion from synchronous code."""
        if self._on_loop():
            coro.close()
            raise RuntimeError("a synchronous Quarry call was made from inside its own event loop; use the async API")
        future = asyncio.run_coroutine_threadsafe(coro, self._loop)
        try:
            return future.result()
        except BaseException:  # Ctrl-C in the caller: the run must not go on without it
            future.cancel()
            raise

    async def arun(self, coro: Coroutine[Any, Any, T]) -> T:
        """Run `coro` on this loop and await it from the caller's loop."""
        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(coro, self._loop))

    def iterate(self, source: AsyncIterator[T]) -> Iterator[T]:
        """Drive `source` on this loop and yield its items to synchronous code, in order."""
        if self._on_loop():
            raise RuntimeError("a synchronous Quarry call was made from inside its own event loop; use the async API")
        items: queue.SimpleQueue[Any] = queue.SimpleQueue()
        future = self._pump(source, items.put)
        item: Any = None
        try:
            while (item := items.get()) is not _END:
                if _delivered(item):
                    yield item
        finally:
            if item is not _END:
                # Left early: cancel, then wait for the source's own clean-up (its run's ledger row).
                future.cancel()
                while items.get() is not _END:
                    pass

    async def aiterate(self, source: AsyncIterator[T]) -> AsyncIterator[T]:
        """Drive `source` on this loop and yield its items on the caller's loop, in order."""
        caller = asyncio.get_running_loop()
        items: asyncio.Queue[Any] = asyncio.Queue()
        future = self._pump(source, lambda item: caller.call_soon_threadsafe(items.put_nowait, item))
        item: Any = None
        try:
            while (item := await items.get()) is not _END:
                if _delivered(item):
                    yield item
        finally:
            if item is not _END:
                future.cancel()
                while await items.get() is not _END:
                    pass

    def _pump(self, source: AsyncIterator[Any], deliver: Callable[[Any], object]) -> "Future[None]":
        """Run `source` on this loop, handing each item, then a failure if any, then _END, to `deliver`."""

        async def pump() -> None:
            try:
                async for item in source:
                    deliver(item)
            except BaseException as error:  # handed to the consumer, who re-raises it
                deliver(_Failure(error))
            finally:
                deliver(_END)

        return asyncio.run_coroutine_threadsafe(pump(), self._loop)

    def close(self) -> None:
        """Cancel what is still running (abandoned streams), let it clean up, then stop the loop."""
        if self._loop.is_closed():
            return
        if not self._on_loop():
            asyncio.run_coroutine_threadsafe(_cancel_others(), self._loop).result(timeout=30)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()

    def _on_loop(self) -> bool:
        try:
            return asyncio.get_running_loop() is self._loop
        except RuntimeError:
            return False


def _delivered(item: Any) -> bool:
    """True for an item to yield; raises a failure the source reported (a cancelled source just ends)."""
    if isinstance(item, _Failure):
        if isinstance(item.error, asyncio.CancelledError):
            return False
        raise item.error
    return True


async def _cancel_others() -> None:
    others = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
    for task in others:
        task.cancel()
    await asyncio.gather(*others, return_exceptions=True)
    await asyncio.get_running_loop().shutdown_asyncgens()
