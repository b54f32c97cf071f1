"""One event loop per Assistant, on its own thread.

The Claude client keeps HTTP connections bound to the loop that opened them, so every run of an
Assistant — from the sync API, from the caller's own loop, or from a notebook whose loop is already
running — executes on this one loop. Sync calls block on it; async calls await it without blocking
the caller's loop; cancelling the caller cancels the run.
"""

import asyncio
import atexit
import itertools
import queue
import threading
import time
import weakref
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, ParamSpec, TypeVar

T = TypeVar("T")
P = ParamSpec("P")
_END = object()


EXIT_DRAIN_LIMIT_S = 5.0
"""At interpreter exit, how long abandoned calls still running are given to finish (a backstop: after
start-up is warmed they are a query or an embedding of milliseconds). A native library (torch) aborts
the process if its work is still running while the interpreter tears down."""


class DaemonExecutor(ThreadPoolExecutor):
    """The executor behind `asyncio.to_thread` on Quarry's loops: each call on a daemon thread of its own.

    A run cut at its deadline abandons the blocking call it was awaiting (a query, an embedding). With
    asyncio's default executor, `asyncio.run` then waits for that call before returning, and the
    interpreter joins its threads at exit, so the answer and the exit come late by however long the
    abandoned work takes. Here nothing waits for it until the interpreter exits, and then at most
    EXIT_DRAIN_LIMIT_S (before the embedded database's own exit hook stops the server)."""

    _names = itertools.count(1)

    def __init__(self) -> None:
        super().__init__(max_workers=1)  # the parent's pool is never used; asyncio requires the type
        self._running: set[threading.Thread] = set()
        self._guard = threading.Lock()
        self._closed = False
        _LIVE.add(self)

    def submit(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> "Future[T]":
        future: Future[T] = Future()

        def work() -> None:
            try:
                if future.set_running_or_notify_cancel():
                    try:
                        future.set_result(fn(*args, **kwargs))
                    except BaseException as error:  # handed to the awaiting task
                        future.set_exception(error)
            finally:
                with self._guard:
                    self._running.discard(threading.current_thread())

        thread = threading.Thread(target=work, name=f"quarry-worker-{next(self._names)}", daemon=True)
        with self._guard:
            if self._closed:
                raise RuntimeError("cannot schedule new futures after shutdown")
            self._running.add(thread)
        thread.start()
        return future

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        with self._guard:
            self._closed = True
            running = list(self._running)
        super().shutdown(wait=False)
        if wait:
            for thread in running:
                thread.join()

    def running(self) -> int:
        """Calls still running (abandoned by a run cut at its deadline, or not yet done)."""
        with self._guard:
            return sum(thread.is_alive() for thread in self._running)

    def drain(self, timeout: float) -> bool:
        """Wait up to `timeout` seconds for the calls still running; True when none is left."""
        deadline = time.monotonic() + timeout
        with self._guard:
            running = list(self._running)
        for thread in running:
            thread.join(max(0.0, deadline - time.monotonic()))
        return not any(thread.is_alive() for thread in running)


_LIVE: "weakref.WeakSet[DaemonExecutor]" = weakref.WeakSet()


@atexit.register
def _drain_at_exit() -> None:
    deadline = time.monotonic() + EXIT_DRAIN_LIMIT_S
    for executor in list(_LIVE):
        executor.drain(max(0.0, deadline - time.monotonic()))


def run_abandoning(coro: Coroutine[Any, Any, T]) -> T:
    """`asyncio.run(coro)`, except that blocking calls the coroutine abandoned (cut at a deadline) are
    not waited for: they run on daemon threads (`DaemonExecutor`) that neither the return nor the
    process's exit waits on. What `quarry ask` runs its question with."""
    loop = asyncio.new_event_loop()
    loop.set_default_executor(DaemonExecutor())
    try:
        return loop.run_until_complete(coro)
    finally:
        try:
            _cancel_all(loop)
            loop.run_until_complete(loop.shutdown_asyncgens())
        finally:
            loop.close()  # shuts the executor down without waiting


def _cancel_all(loop: asyncio.AbstractEventLoop) -> None:
    pending = asyncio.all_tasks(loop)
    for task in pending:
        task.cancel()
    if pending:
        loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))


class _Failure:
    def __init__(self, error: BaseException) -> None:
        self.error = error


class LoopThread:
    def __init__(self, name: str = "quarry-loop") -> None:
        self._loop = asyncio.new_event_loop()
        self._loop.set_default_executor(DaemonExecutor())
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
