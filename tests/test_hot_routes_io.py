"""How the hot routes read a body and await their write (api/hot_routes.py): a body that has
arrived is taken without arming a deadline; one that must be waited for is read under the body
deadline, cut off with a 408 when it does not come, and handed to Litestar when it is no body or
too large. A committed write wakes its request directly when the writer runs on the loop.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable
from concurrent.futures import Future
from typing import Any

import pytest

from latchkey.api import hot_routes
from latchkey.api.body_timeout import RequestTimeout

Receive = Callable[[], Awaitable[dict[str, Any]]]


def _routes(max_body_bytes: int = 100, body_seconds: float = 0.2) -> hot_routes.HotRoutes:
    return hot_routes.HotRoutes(
        fallback=None,  # type: ignore[arg-type]
        origins=None,  # type: ignore[arg-type]
        max_body_bytes=max_body_bytes,
        body_seconds=body_seconds,
    )


def _body(data: bytes, more: bool = False) -> dict[str, Any]:
    return {"type": "http.request", "body": data, "more_body": more}


def _at_once(*messages: dict[str, Any]) -> Receive:
    pending = list(messages)

    async def receive() -> dict[str, Any]:
        return pending.pop(0)

    return receive


def _after(seconds: float, *messages: dict[str, Any]) -> Receive:
    """Each message once `seconds` have passed (the client is slow)."""
    pending = list(messages)

    async def receive() -> dict[str, Any]:
        await asyncio.sleep(seconds)
        return pending.pop(0)

    return receive


@pytest.fixture
def deadlines(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The deadlines `_read` armed (asyncio.timeout's delays)."""
    armed: list[float] = []
    real = asyncio.timeout

    def spy(delay: float | None) -> Any:
        assert delay is not None
        armed.append(delay)
        return real(delay)

    monkeypatch.setattr(hot_routes.asyncio, "timeout", spy)
    return armed


def _read(routes: hot_routes.HotRoutes, receive: Receive, length: int | None = None) -> Any:
    declared = hot_routes._content_length(None if length is None else str(length))
    return asyncio.run(routes._read(declared, receive))


def test_a_body_that_has_arrived_is_read_without_a_deadline(deadlines: list[float]) -> None:
    assert _read(_routes(), _at_once(_body(b"{}")), 2) == [_body(b"{}")]
    assert deadlines == []


def test_a_body_waited_for_is_read_under_the_deadline(deadlines: list[float]) -> None:
    assert _read(_routes(), _after(0.01, _body(b"{}")), 2) == [_body(b"{}")]
    assert deadlines == [0.2]


def test_a_body_in_chunks_is_read_whole(deadlines: list[float]) -> None:
    first, rest = _body(b'{"a"', more=True), _body(b":1}")
    assert _read(_routes(), _at_once(first, rest)) == [first, rest]
    # The first chunk came at once; the rest may not: it is read under the deadline.
    assert deadlines == [0.2]
    assert _read(_routes(), _after(0.01, first, rest)) == [first, rest]


def test_a_body_that_does_not_come_is_cut_off() -> None:
    with pytest.raises(RequestTimeout):
        _read(_routes(body_seconds=0.05), _after(5, _body(b"{}")), 2)


def test_the_rest_of_a_body_that_does_not_come_is_cut_off() -> None:
    pending = [_body(b'{"a"', more=True)]

    async def receive() -> dict[str, Any]:
        if pending:
            return pending.pop(0)
        await asyncio.sleep(5)
        raise AssertionError("not cut off")

    with pytest.raises(RequestTimeout):
        _read(_routes(body_seconds=0.05), receive)


@pytest.mark.parametrize("receive", [_at_once, lambda *m: _after(0.01, *m)])
def test_no_body_or_too_large_a_body_goes_to_litestar(receive: Callable[..., Receive]) -> None:
    gone = {"type": "http.disconnect"}
    with pytest.raises(hot_routes._Declined) as declined:
        _read(_routes(), receive(gone))
    assert declined.value.received == [gone]
    large = _body(b"x" * 101)
    with pytest.raises(hot_routes._Declined) as declined:
        _read(_routes(), receive(large))
    assert declined.value.received == [large]
    with pytest.raises(hot_routes._Declined) as declined:
        _read(_routes(), receive(_body(b"{}")), 101)  # declared too large: nothing read
    assert declined.value.received == []


def test_a_request_cancelled_while_its_body_is_awaited_is_cancelled() -> None:
    async def cancelled() -> None:
        reading = asyncio.ensure_future(_routes()._read(0, _after(5, _body(b"{}"))))
        await asyncio.sleep(0.01)
        reading.cancel()
        with pytest.raises(asyncio.CancelledError):
            await reading

    asyncio.run(cancelled())


def test_a_write_resolved_on_the_loop_wakes_its_request_directly(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def resolved_here() -> Any:
        loop = asyncio.get_running_loop()
        monkeypatch.setattr(loop, "call_soon_threadsafe", _refused)
        future: Future[Any] = Future()
        waiting = hot_routes._committed(future)
        loop.call_soon(future.set_result, "committed")  # as the writer on the loop resolves it
        return await asyncio.wait_for(waiting, 2)  # (a refused wake-up would never come)

    assert asyncio.run(resolved_here()) == "committed"


def _refused(*_args: Any) -> None:
    raise AssertionError("woken through call_soon_threadsafe")


def test_a_write_resolved_by_a_writer_thread_wakes_its_request() -> None:
    async def resolved_there(outcome: Callable[[Future[Any]], None]) -> Any:
        future: Future[Any] = Future()
        waiting = hot_routes._committed(future)
        threading.Timer(0.01, outcome, (future,)).start()
        return await waiting

    assert asyncio.run(resolved_there(lambda f: f.set_result("committed"))) == "committed"
    with pytest.raises(LookupError):
        asyncio.run(resolved_there(lambda f: f.set_exception(LookupError("refused"))))


def test_a_request_cancelled_while_its_write_is_queued_leaves_the_write() -> None:
    async def cancelled() -> Future[Any]:
        future: Future[Any] = Future()
        waiting = asyncio.ensure_future(hot_routes._committed(future))
        await asyncio.sleep(0)
        waiting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiting
        future.set_result("committed")  # the writer resolves its group as usual
        return future

    assert asyncio.run(cancelled()).result() == "committed"


class _ServerAwaitable:
    """An ASGI server's own awaitable, not a coroutine (granian's receive() returns one): its
    __await__ is a plain iterator without send()."""

    def __init__(self, message: dict[str, Any]) -> None:
        self.message = message

    def __await__(self) -> Any:
        return self

    def __iter__(self) -> Any:
        return self

    def __next__(self) -> Any:
        raise StopIteration(self.message)


def test_a_receive_that_is_not_a_coroutine_is_awaited_as_is(deadlines: list[float]) -> None:
    messages = [_body(b'{"a"'), _body(b": 1}")]
    messages[0]["more_body"] = True

    def receive() -> Any:
        return _ServerAwaitable(messages.pop(0))

    assert _read(_routes(), receive, 8) == [
        {"type": "http.request", "body": b'{"a"', "more_body": True},
        _body(b": 1}"),
    ]
