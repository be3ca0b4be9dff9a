"""A client that starts a request and withholds its body is cut off with a 408 JSON answer in
the surface's shape once the body budget is spent, and the server goes on serving others."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.live_server import create_tenant, free_port, serving


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[int, str]]:
    database_url = f"sqlite:///{tmp_path / 'slow.db'}"
    tenant = create_tenant(database_url, ["http://localhost:5002"])
    port = free_port()
    with serving(database_url, port, {"LATCHKEY_BODY_TIMEOUT_SECONDS": "1"}):
        yield port, tenant["id"]


def _read_answer(sock: socket.socket) -> bytes:
    sock.settimeout(10)
    data = b""
    while b"\r\n\r\n" not in data or len(data.split(b"\r\n\r\n", 1)[1]) < _length(data):
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    return data


def _length(data: bytes) -> int:
    for line in data.split(b"\r\n\r\n", 1)[0].split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            return int(line.split(b":", 1)[1])
    return 0


def _withhold(port: int, path: str) -> tuple[bytes, dict[str, object], float]:
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(
            f"POST {path} HTTP/1.1\r\nHost: localhost\r\n".encode()
            + b'Content-Type: application/json\r\nContent-Length: 500\r\n\r\n{"a":'
        )
        started = time.monotonic()
        answer = _read_answer(sock)
        waited = time.monotonic() - started
    head, body = answer.split(b"\r\n\r\n", 1)
    return head, json.loads(body), waited


def test_a_withheld_body_is_cut_off(server: tuple[int, str]) -> None:
    port, tenant_id = server
    head, body, waited = _withhold(port, "/v1/client/verify/passkey")
    assert head.startswith(b"HTTP/1.1 408"), head
    assert body["errorCode"] == "request_timeout"
    assert 0.5 < waited < 5
    head, body, _ = _withhold(port, f"/{tenant_id}/identity/default/login/webauthn/finish")
    assert head.startswith(b"HTTP/1.1 408"), head
    assert body["error_code"] == "request_timeout"
    # The server still answers everyone else.
    assert httpx.get(f"http://127.0.0.1:{port}/health", timeout=5).status_code == 200
