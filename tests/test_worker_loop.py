"""services/worker_loop.py: passes, wake, stop, chores, helper threads and what is logged."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

import pytest

from latchkey.errors import InvalidRequest
from latchkey.services.worker_loop import Chore, WorkerLoop, loggable

log = logging.getLogger("tests.worker_loop")


def wait_for(condition: Callable[[], bool], seconds: float = 5.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.005)


def counting_loop(**options: object) -> tuple[WorkerLoop, list[str]]:
    passes: list[str] = []

    def step() -> None:
        passes.append(threading.current_thread().name)

    return WorkerLoop("test-loop", step, log=log, what="test pass", **options), passes  # type: ignore[arg-type]


def test_loggable_keeps_our_messages_and_only_the_type_of_others() -> None:
    assert loggable(InvalidRequest("the body is not JSON")) == "the body is not JSON"
    assert loggable(RuntimeError("INSERT ... [parameters: ('123456',)]")) == "RuntimeError"


def test_the_first_pass_runs_at_once_then_one_per_interval() -> None:
    loop, passes = counting_loop(every=60)
    loop.start()
    try:
        wait_for(lambda: len(passes) == 1)
        time.sleep(0.1)
        assert passes == ["test-loop"]  # the next one waits for the interval
    finally:
        assert loop.stop(5) is True


def test_wake_runs_the_next_pass_now() -> None:
    loop, passes = counting_loop(every=60)
    loop.start()
    try:
        wait_for(lambda: len(passes) == 1)
        loop.wake()
        wait_for(lambda: len(passes) == 2)
    finally:
        assert loop.stop(5) is True


def test_first_after_delays_the_first_pass_and_stop_ends_the_wait() -> None:
    loop, passes = counting_loop(every=60, first_after=60)
    loop.start()
    time.sleep(0.1)
    started = time.monotonic()
    assert loop.stop(5) is True
    assert time.monotonic() - started < 1  # the wait did not hold the stop up
    assert passes == []


def test_a_pass_that_raises_is_logged_and_the_next_one_runs(
    caplog: pytest.LogCaptureFixture,
) -> None:
    calls: list[int] = []

    def step() -> None:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("statement failed [parameters: ('a recovery code',)]")

    loop = WorkerLoop("test-loop", step, every=0.01, log=log, what="test pass")
    with caplog.at_level(logging.ERROR, logger="tests.worker_loop"):
        loop.start()
        try:
            wait_for(lambda: len(calls) >= 2)
        finally:
            assert loop.stop(5) is True
    assert [r.getMessage() for r in caplog.records] == ["test pass failed: RuntimeError"]


def test_stop_lets_the_pass_finish_and_reports_a_thread_that_outlives_the_timeout() -> None:
    release = threading.Event()
    entered = threading.Event()
    seen_stopping: list[bool] = []
    loop: WorkerLoop

    def step() -> None:
        entered.set()
        release.wait(5)
        seen_stopping.append(loop.stopping)

    loop = WorkerLoop("test-loop", step, every=60, log=log, what="test pass")
    loop.start()
    assert entered.wait(5)
    assert loop.stop(0.05) is False  # still in its pass
    release.set()
    wait_for(lambda: seen_stopping == [True])  # the pass saw the stop and ended


def test_start_is_a_no_op_while_running_and_works_again_after_stop() -> None:
    loop, passes = counting_loop(every=60)
    loop.start()
    wait_for(lambda: len(passes) == 1)
    loop.start()
    time.sleep(0.05)
    assert len(passes) == 1
    assert loop.stop(5) is True
    loop.start()
    try:
        wait_for(lambda: len(passes) == 2)
        assert loop.stopping is False
    finally:
        assert loop.stop(5) is True


def test_helpers_run_once_at_start_then_only_when_work_is_found() -> None:
    loop, passes = counting_loop(every=60, threads=3)
    loop.start()
    try:
        wait_for(lambda: len(passes) == 3)
        time.sleep(0.05)
        assert sorted(passes) == ["test-loop-0", "test-loop-1", "test-loop-2"]
        loop.found()
        wait_for(lambda: len(passes) == 5)
        time.sleep(0.05)
        assert sorted(passes[3:]) == ["test-loop-1", "test-loop-2"]  # not the polling one
    finally:
        assert loop.stop(5) is True


def test_a_chore_runs_after_the_first_pass_then_when_due(
    caplog: pytest.LogCaptureFixture,
) -> None:
    order: list[str] = []

    def prune() -> None:
        order.append("chore")
        raise InvalidRequest("the database is read-only")

    loop = WorkerLoop(
        "test-loop",
        lambda: order.append("pass"),
        every=60,
        log=log,
        what="test pass",
        chores=[Chore("test pruning", 60, prune)],
    )
    with caplog.at_level(logging.ERROR, logger="tests.worker_loop"):
        loop.start()
        try:
            wait_for(lambda: order == ["pass", "chore"])
            loop.wake()  # a pass, but the chore is not due for a minute
            wait_for(lambda: len(order) == 3)
            time.sleep(0.05)
        finally:
            assert loop.stop(5) is True
    assert order == ["pass", "chore", "pass"]
    assert [r.getMessage() for r in caplog.records] == [
        "test pruning failed: the database is read-only"
    ]
