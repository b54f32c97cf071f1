"""A bounded least-recently-used map: the per-reader views (BM25 statistics, graph views) live in one,
so a stream of distinct group sets costs at most `capacity` views of memory, never one per set."""

from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class Lru(Generic[K, V]):
    """Not thread-safe on its own: the owner holds its lock around `get_or_build`."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._items: OrderedDict[K, V] = OrderedDict()
        self.builds = 0
        """How many values were built (misses): evictions show up as rebuilds."""

    def get_or_build(self, key: K, build: Callable[[], V]) -> V:
        if key in self._items:
            self._items.move_to_end(key)
            return self._items[key]
        value = build()
        self.builds += 1
        self._items[key] = value
        while len(self._items) > self.capacity:
            self._items.popitem(last=False)
        return value

    def __len__(self) -> int:
        return len(self._items)

    def clear(self) -> None:
        self._items.clear()
