"""A least-recently-used cache bounded by bytes, not entries.

Entries are large and vary by orders of magnitude (a 10 × 10 grid is 2 kB of JSON, a 400 × 400
one 3.5 MB), so a bound on their number bounds nothing: a hundred distinct large grids grew the
server by 0.6 GB. Here each entry is charged its size, the least recently used go first, and an
entry larger than the whole budget is computed but not kept.

>>> c = ByteLRU(max_bytes=10)
>>> c.get_or_make("a", lambda: b"12345", len), c.get_or_make("b", lambda: b"123456", len), "a" in c, c.nbytes
(b'12345', b'123456', False, 6)
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Callable, Generic, Hashable, TypeVar

T = TypeVar("T")


class ByteLRU(Generic[T]):
    def __init__(self, max_bytes: int):
        self.max_bytes = max_bytes
        self.nbytes = 0
        self.hits = self.misses = 0
        self._items: OrderedDict[Hashable, tuple[T, int]] = OrderedDict()
        self._lock = threading.Lock()

    def __contains__(self, key: Hashable) -> bool:
        with self._lock:
            return key in self._items

    def __len__(self) -> int:
        return len(self._items)

    def get(self, key: Hashable) -> T | None:
        with self._lock:
            hit = self._items.get(key)
            if hit is None:
                self.misses += 1
                return None
            self.hits += 1
            self._items.move_to_end(key)
            return hit[0]

    def put(self, key: Hashable, value: T, size: int) -> None:
        with self._lock:
            old = self._items.pop(key, None)
            if old is not None:
                self.nbytes -= old[1]
            if size > self.max_bytes:
                return
            self._items[key] = (value, size)
            self.nbytes += size
            while self.nbytes > self.max_bytes:
                _, (_, dropped) = self._items.popitem(last=False)
                self.nbytes -= dropped

    def get_or_make(self, key: Hashable, make: Callable[[], T], size_of: Callable[[T], int]) -> T:
        """The cached value, or ``make()``'s (computed outside the lock), kept if it fits."""
        value = self.get(key)
        if value is None:
            value = make()
            self.put(key, value, size_of(value))
        return value

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self.nbytes = 0
