"""The runs a service process is working on, each in its own task, so that a client leaving cancels
its run (and only its run), and shutdown can wait for the rest to finish within their deadlines."""

import asyncio
import threading
from collections.abc import Coroutine
from typing import Any


class InFlight:
    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[Any]] = set()
        self._idle = threading.Condition()
        self.started = 0
        self.cancelled = 0

    def start(self, work: Coroutine[Any, Any, Any]) -> "asyncio.Task[Any]":
        task = asyncio.get_running_loop().create_task(work)
        with self._idle:
            self._tasks.add(task)
            self.started += 1
        task.add_done_callback(self._finished)
        return task

    def _finished(self, task: "asyncio.Task[Any]") -> None:
        if task.cancelled():
            self.cancelled += 1
        else:
            task.exception()  # retrieved: its consumer was told, or is gone
        with self._idle:
            self._tasks.discard(task)
            self._idle.notify_all()

    @property
    def count(self) -> int:
        with self._idle:
            return len(self._tasks)

    async def drain(self, timeout: float) -> int:
        """Wait up to `timeout` seconds for every run to end; cancel what is left. Returns how many were cancelled."""
        with self._idle:
            tasks = set(self._tasks)
        if not tasks:
            return 0
        _, pending = await asyncio.wait(tasks, timeout=timeout)
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.wait(pending, timeout=10)
        return len(pending)

    def wait_idle(self, timeout: float) -> bool:
        """From any thread: block until no run is in flight (True), or `timeout` passes (False)."""
        with self._idle:
            return self._idle.wait_for(lambda: not self._tasks, timeout=timeout)
