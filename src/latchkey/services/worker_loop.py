"""The loop every background worker runs (mail, webhooks, retention).

A daemon thread runs a pass (`step`) every `every` seconds until `stop()`, at once when woken,
then its chores that are due (pruning). A pass that raises is logged, without the error's text
unless it is one of ours (a database error's text can carry statement parameters: a mail's
body, a webhook's payload), and the next pass runs as usual. A worker with several threads has
one that polls; the others sleep until a pass says it `found()` work, so an idle worker costs
one pass per interval whatever its concurrency.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from latchkey.errors import LatchkeyError


def loggable(exc: BaseException) -> str:
    """What of an error may be logged: our own errors' messages, else only the error's type."""
    if isinstance(exc, LatchkeyError):
        return exc.message
    return type(exc).__name__


@dataclass
class Chore:
    """A job the polling thread runs after a pass at most once every `every` seconds, the
    first time after its first pass."""

    what: str  # for the log: "<what> failed: ..."
    every: float
    job: Callable[[], object]
    next_at: float = 0.0  # time.monotonic()


class WorkerLoop:
    def __init__(
        self,
        name: str,
        step: Callable[[], object],
        *,
        every: float,
        log: logging.Logger,
        what: str,
        threads: int = 1,
        first_after: float = 0.0,
        chores: Sequence[Chore] = (),
    ) -> None:
        """`name` names the threads; `what` the pass in the log ("<what> failed: ..."); the
        first pass runs `first_after` seconds after start()."""
        self.name = name
        self.step = step
        self.every = every
        self.log = log
        self.what = what
        self.threads = max(1, threads)
        self.first_after = first_after
        self.chores = list(chores)
        self._stopping = threading.Event()
        self._wake = threading.Event()  # the polling thread's: pass now
        # The helping threads wait for this count to move: work found, or stop (no wake is lost).
        self._found = threading.Condition()
        self._generation = 0
        self._running: list[threading.Thread] = []

    @property
    def stopping(self) -> bool:
        """stop() was called: a pass in progress should finish its current item and return."""
        return self._stopping.is_set()

    def start(self) -> None:
        """Start the threads; a no-op while they run."""
        if any(t.is_alive() for t in self._running):
            return
        self._stopping.clear()
        self._running = [
            threading.Thread(
                target=self._poll if n == 0 else self._help,
                name=self.name if self.threads == 1 else f"{self.name}-{n}",
                daemon=True,
            )
            for n in range(self.threads)
        ]
        for thread in self._running:
            thread.start()

    def wake(self) -> None:
        """Start the next pass now rather than after the interval (e.g. after an enqueue)."""
        self._wake.set()

    def found(self) -> None:
        """A pass found work: the helping threads each run a pass too."""
        with self._found:
            self._generation += 1
            self._found.notify_all()

    def stop(self, timeout: float = 30.0) -> bool:
        """Let each thread finish its pass's current item, then end; False if one outlived
        `timeout` (work it leased is taken over by a later worker once the lease ends)."""
        self._stopping.set()
        self._wake.set()
        self.found()
        threads, self._running = self._running, []
        deadline = time.monotonic() + timeout
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        return not any(t.is_alive() for t in threads)

    def _poll(self) -> None:
        wait = self.first_after
        while not self._stopping.is_set():
            if wait > 0:
                self._wake.wait(wait)
                self._wake.clear()
                if self._stopping.is_set():
                    return
            self._run(self.what, self.step)
            for chore in self.chores:
                if time.monotonic() >= chore.next_at:
                    chore.next_at = time.monotonic() + chore.every
                    self._run(chore.what, chore.job)
            wait = self.every

    def _help(self) -> None:
        seen = self._generation
        while not self._stopping.is_set():
            self._run(self.what, self.step)
            with self._found:
                while self._generation == seen:
                    self._found.wait()
                seen = self._generation

    def _run(self, what: str, job: Callable[[], object]) -> None:
        try:
            job()
        except Exception as exc:  # e.g. the database is down: try again next time
            self.log.error("%s failed: %s", what, loggable(exc))


class LoopedWorker:
    """A worker whose passes its WorkerLoop (`_loop`) runs: starting, waking and stopping it
    are the loop's."""

    _loop: WorkerLoop

    @property
    def stopping(self) -> bool:
        return self._loop.stopping

    def start(self) -> None:
        """Run passes in daemon threads until stop(); a no-op when already running."""
        self._loop.start()

    def wake(self) -> None:
        """Start the next pass now rather than after the interval (e.g. after an enqueue)."""
        self._loop.wake()

    def stop(self, timeout: float = 30.0) -> bool:
        """Let each thread finish the item it is on, then stop; False if one outlived `timeout`
        (what it leased is taken over by a later worker once the lease ends, never lost)."""
        return self._loop.stop(timeout)
