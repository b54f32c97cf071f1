"""The Assistant's event-loop thread: results, failures and early exits cross threads intact."""

import asyncio
import threading

import pytest

from quarry.agent.loop import LoopThread


@pytest.fixture
def loop() -> LoopThread:
    thread = LoopThread()
    yield thread
    thread.close()


class Counting:
    """An async source that records where it ran and whether its clean-up happened."""

    def __init__(self, fail_at: int | None = None) -> None:
        self.fail_at = fail_at
        self.cleaned = threading.Event()
        self.threads: set[str] = set()

    async def items(self):
        try:
            for n in range(100):
                self.threads.add(threading.current_thread().name)
                if n == self.fail_at:
                    raise LookupError(f"failed at {n}")
                yield n
                await asyncio.sleep(0.001)
        finally:
            await asyncio.sleep(0.01)  # clean-up that itself awaits, like closing a ledger row
            self.cleaned.set()


def test_sync_iteration_runs_on_the_loop_thread_in_order(loop: LoopThread):
    source = Counting()
    assert list(loop.iterate(source.items())) == list(range(100))
    assert source.threads == {"quarry-loop"} and source.cleaned.is_set()


def test_leaving_a_sync_iteration_early_cancels_and_waits_for_clean_up(loop: LoopThread):
    source = Counting()
    for n in loop.iterate(source.items()):
        if n == 3:
            break
    assert source.cleaned.is_set(), "the source finished its clean-up before the caller went on"


def test_failures_reach_the_caller(loop: LoopThread):
    with pytest.raises(LookupError, match="failed at 5"):
        list(loop.iterate(Counting(fail_at=5).items()))


async def test_async_iteration_from_another_loop_and_early_close(loop: LoopThread):
    source = Counting()
    stream = loop.aiterate(source.items())
    seen = [n async for n in _take(stream, 4)]
    await stream.aclose()
    assert seen == [0, 1, 2, 3] and source.cleaned.is_set()
    assert await loop.arun(asyncio.sleep(0, result="done")) == "done"
    with pytest.raises(LookupError):
        [n async for n in loop.aiterate(Counting(fail_at=0).items())]


def test_a_sync_call_from_inside_the_loop_is_refused(loop: LoopThread):
    async def nested() -> None:
        loop.run(asyncio.sleep(0))

    with pytest.raises(RuntimeError, match="use the async API"):
        loop.run(nested())


async def _take(stream, count: int):
    async for item in stream:
        yield item
        count -= 1
        if count == 0:
            return
