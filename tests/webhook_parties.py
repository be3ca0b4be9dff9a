"""Webhook test parties: a real HTTP(S) receiver on a free local port, and events recorded with
their webhooks as services/events.record does it."""

from __future__ import annotations

import json
import socket
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from latchkey import event_kinds
from latchkey.ids import new_id
from latchkey.models import Event
from latchkey.runtime import Runtime
from latchkey.services import webhooks
from latchkey.store import events as event_store


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes
    status: int

    @property
    def event_id(self) -> str:
        return str(json.loads(self.body)["id"])


@dataclass
class Receiver:
    """A local webhook receiver. `status` is what it answers; `hold` makes the first request
    wait until set; `tls` serves HTTPS (at https://localhost); stopped, its port refuses
    connections."""

    port: int
    status: int = 200
    delay: float = 0.0
    hold: threading.Event | None = None
    before_answer: Callable[[], Any] | None = None
    requests: list[Received] = field(default_factory=list)
    entered: threading.Event = field(default_factory=threading.Event)
    tls: ssl.SSLContext | None = None
    _server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        if self.tls is not None:
            return f"https://localhost:{self.port}/hooks/latchkey"
        return f"http://127.0.0.1:{self.port}/hooks/latchkey"

    def start(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                receiver.entered.set()
                if receiver.hold is not None and not receiver.requests:
                    assert receiver.hold.wait(10)
                time.sleep(receiver.delay)
                if receiver.before_answer is not None:
                    receiver.before_answer()
                status = receiver.status
                receiver.requests.append(Received(dict(self.headers.items()), body, status))
                self.send_response(status)
                if 300 <= status < 400:
                    self.send_header("Location", f"http://127.0.0.1:{receiver.port}/elsewhere")
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        if self.tls is not None:
            self._server.socket = self.tls.wrap_socket(self._server.socket, server_side=True)
        threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def accepted(self) -> list[Received]:
        return [r for r in self.requests if 200 <= r.status < 300]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def record(
    rt: Runtime, tenant_id: str, kind: str = event_kinds.PASSKEY_AUTHENTICATION, **fields: Any
) -> Event:
    """An event and its webhooks in one transaction, as events.record does it."""
    event = make_event(rt, tenant_id, kind, **fields)
    with rt.transaction() as conn:
        event_store.add(conn, event)
        webhooks.enqueue_for_event(conn, rt, event)
    return event


def make_event(rt: Runtime, tenant_id: str, kind: str, **fields: Any) -> Event:
    values: dict[str, Any] = {
        "id": new_id(),
        "tenant_id": tenant_id,
        "kind": kind,
        "outcome": "success",
        "reason": None,
        "user_id": None,
        "credential_id": None,
        "ip": "203.0.113.7",
        "user_agent": "Mozilla/5.0 (Zoë's phone)",
        "created_at": rt.now(),
        "detail": {"app": "web", "aaguid": "ea9b8d66-4d01-1d21-3ce4-b6b48cb575d4"},
    }
    values.update(fields)
    return Event(**values)
