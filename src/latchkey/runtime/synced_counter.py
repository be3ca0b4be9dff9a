"""Rate-limit counts kept in this process's memory and added to the database in batches, for
limits shared by every node (PostgreSQL) without a database transaction per request.

A hit counts at once against what this process knows: the key's total as the database last
returned it, plus this process's hits not yet added. A background thread adds the pending
hits of every key in one statement every `sync_seconds` (only while there are any) and learns
each key's new total, hits of other nodes included. So a refusal, like a hit, costs no
database write of its own, and a flood costs one row update per key per interval whatever
its rate. The price is the interval: another node's hits are seen up to `sync_seconds` late,
so a burst spread over N nodes may pass the limit by what N-1 nodes admit in that time (the
same trade as Kong's `sync_rate`). With the database away, counting goes on locally and the
pending hits are added once it answers (limits are a brake, not a gate).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from latchkey.runtime.ratelimit import Clock
from latchkey.store import rate_limits as rate_limit_store

log = logging.getLogger("latchkey.ratelimit")

SYNC_SECONDS = 0.1
MAX_KEYS = 100_000  # bounds memory under a flood of distinct keys


class _Count:
    __slots__ = ("known", "pending", "window")

    def __init__(self, window: int) -> None:
        self.window = window  # the window's end (Unix seconds), as the table stores it
        self.known = 0  # the key's total in the database when last added to
        self.pending = 0  # this process's hits not yet added


class SyncedCounter:
    waits = False  # counted in memory; the database is met by the sync thread only

    def __init__(
        self,
        engine: Engine,
        clock: Clock = time.time,
        *,
        sync_seconds: float = SYNC_SECONDS,
        start: Callable[[Callable[[], None]], None] | None = None,
    ) -> None:
        """`start` runs the syncing loop (a daemon thread unless given: tests sync by hand)."""
        self._engine = engine
        self.clock = clock
        self.sync_seconds = sync_seconds
        self._counts: dict[str, _Count] = {}
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._start = start or _daemon
        self._running = False

    def incr(self, key: str, window: int) -> int:
        key = key[:255]
        end = (int(self.clock() // window) + 1) * window
        with self._lock:
            count = self._counts.get(key)
            if count is None or count.window != end:
                if len(self._counts) >= MAX_KEYS:
                    self._drop_finished()
                count = self._counts[key] = _Count(end)
            count.pending += 1
            if not self._running:
                self._running = True
                self._start(self._sync_loop)
            return count.known + count.pending

    def sync(self) -> bool:
        """Add every pending hit to the database in one transaction and learn the totals;
        False (the hits stay pending) when the database is away."""
        with self._lock:
            batch = [(k, c.window, c.pending) for k, c in self._counts.items() if c.pending]
        if not batch:
            return True
        try:
            with self._engine.begin() as conn:
                totals = rate_limit_store.add(conn, batch)
        except SQLAlchemyError:
            log.warning("rate limit store unreachable; %d keys counted here only", len(batch))
            return False
        with self._lock:
            for key, window, added in batch:
                count = self._counts.get(key)
                if count is not None and count.window == window:
                    count.pending -= added  # hits made meanwhile stay pending
                    count.known = totals.get(key, count.known)
            self._drop_finished()
        return True

    def _sync_loop(self) -> None:
        while True:
            time.sleep(self.sync_seconds)
            self.sync()
            with self._lock:
                if not any(c.pending for c in self._counts.values()):
                    self._running = False  # the next hit starts it again
                    return

    def _drop_finished(self) -> None:
        """Under the lock: forget keys whose window has ended and nothing is pending."""
        now = self.clock()
        for key in [k for k, c in self._counts.items() if c.window <= now and not c.pending]:
            del self._counts[key]


def _daemon(run: Callable[[], None]) -> None:
    threading.Thread(target=run, name="latchkey-ratelimit-sync", daemon=True).start()
