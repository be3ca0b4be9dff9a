"""A small time-bounded cache for hot lookups (tenants, API keys) that change rarely.

Entries live `ttl` seconds, so a change made by another process (the CLI, another worker)
applies within that time; a change made in this process drops the entry at once.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")


class TTLCache(Generic[K, V]):
    def __init__(self, ttl: float, max_entries: int = 10_000) -> None:
        self.ttl = ttl
        self.max_entries = max_entries
        self._entries: dict[K, tuple[float, V]] = {}
        self._lock = threading.Lock()

    def get(self, key: K, load: Callable[[], V]) -> V:
        now = time.monotonic()
        found = self._entries.get(key)
        if found is not None and now - found[0] < self.ttl:
            return found[1]
        value = load()
        with self._lock:
            if len(self._entries) >= self.max_entries:
                self._entries.clear()  # rare; keeps a flood of distinct keys from growing it
            self._entries[key] = (now, value)
        return value

    def forget(self, key: K) -> None:
        with self._lock:
            self._entries.pop(key, None)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
