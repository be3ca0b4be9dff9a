"""An attacker's Host header: odd values sent over a raw socket to a real server, on every
surface. Each is refused with 400 and the exact JSON error of that surface (RFC 9112 §3.2),
never a 500; issuer URLs never come from the header."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator

import pytest
from litestar.testing import TestClient

from latchkey.api import hosts
from latchkey.models import Tenant
from latchkey.runtime import Runtime
from latchkey.services import tenants
from tests.domain_proof import prove
from tests.live_server import LiveServer, live_server

MESSAGE = "the Host header is not a valid host name and port"
PLAIN = {"error": "invalid_host", "message": MESSAGE}
OAUTH = {"error": "invalid_request", "error_description": MESSAGE}
V1 = {"error": "invalid_request", "errorCode": "invalid_host", "errorDescription": MESSAGE}
POOL = {"error": MESSAGE, "error_code": "invalid_host", "status_code": 400, "details": {}}

HOSTILE = [
    b"",
    b"a b",
    b"a@b",
    b"x" * 300,
    "exämple.com".encode(),
    b"\xff\xfe",
    b"[::1",
    b"[zz]:80",
    b"localhost:abc",
    b"localhost:99999",
    b"localhost:-1",
    b"localhost:8000:1",
    b"a/b",
    b"evil.example\\x",
    b"-lead.example",
]


def _surfaces(tenant_id: str) -> list[tuple[str, str, dict[str, object]]]:
    return [
        ("GET", "/.well-known/openid-configuration", OAUTH),
        ("POST", f"/t/{tenant_id}/passkey/challenge", OAUTH),
        ("POST", "/v1/validate", V1),
        ("PUT", "/v1/validate", V1),  # a 405, raised before any route is chosen
        ("POST", f"/api/v1/tenants/{tenant_id}/registration/options", PLAIN),
        ("GET", f"/{tenant_id}/identity/default/signin", POOL),
        ("GET", "/admin/v1/tenants", PLAIN),
        ("GET", "/portal/login", PLAIN),
        ("GET", "/health", PLAIN),
        ("GET", "/nope", PLAIN),  # no route at all
    ]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with live_server(tmp_path_factory.mktemp("hosts")) as running:
        yield running


def _raw(port: int, method: str, path: str, host_lines: list[bytes]) -> tuple[int, bytes]:
    """One request written by hand: the Host lines go out exactly as given."""
    head = [f"{method} {path} HTTP/1.1".encode(), *(b"Host: " + h for h in host_lines)]
    head += [b"Content-Type: application/json", b"Content-Length: 2", b"Connection: close"]
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(b"\r\n".join(head) + b"\r\n\r\n{}")
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    status_line, _, rest = data.partition(b"\r\n")
    return int(status_line.split()[1]), rest.partition(b"\r\n\r\n")[2]


@pytest.mark.parametrize("host", HOSTILE, ids=lambda h: repr(h[:20]))
def test_hostile_host_is_a_400_in_each_surface_shape(server: LiveServer, host: bytes) -> None:
    for method, path, expected in _surfaces(server.tenant_id):
        status, body = _raw(server.port, method, path, [host])
        assert (status, json.loads(body)) == (400, expected), (method, path)


def test_two_host_lines_are_refused(server: LiveServer) -> None:
    status, body = _raw(server.port, "POST", "/v1/validate", [b"localhost", b"evil.example"])
    assert (status, json.loads(body)) == (400, V1)


@pytest.mark.parametrize("host", [b"[::1]:80", b"LOCALHOST.", b"127.0.0.1:1", b"a_b.local:"])
def test_valid_odd_hosts_are_served(server: LiveServer, host: bytes) -> None:
    status, body = _raw(server.port, "GET", "/health", [host])
    assert status == 200, body
    status, body = _raw(server.port, "GET", "/.well-known/openid-configuration", [host])
    name = hosts.parse(host)
    assert name is not None
    assert (status, json.loads(body)) == (
        404,
        {
            "error": "tenant_not_found",
            "error_description": f"no tenant serves the domain {name.name!r}",
        },
    )


def test_parse() -> None:
    assert hosts.parse(b"Login.Example.COM.:8443") == hosts.Host("login.example.com", 8443)
    assert hosts.parse(b"[::1]") == hosts.Host("[::1]", None)
    assert hosts.parse(b"example.com:") == hosts.Host("example.com", None)  # RFC 3986: *DIGIT
    for bad in HOSTILE:
        assert hosts.parse(bad) is None, bad


def test_issuer_comes_from_the_stored_domain(
    client: TestClient, rt: Runtime, tenant_and_secret: tuple[Tenant, str]
) -> None:
    tenant = tenant_and_secret[0]
    tenants.update(rt, tenant.id, rp_id="example.com", origins=["https://example.com"])
    tenants.set_domains(rt, tenant.id, ["login.example.com"])
    prove(rt, tenant.id, "login.example.com")
    # Case, a trailing dot and a port the client chose never reach the issuer.
    answer = client.get(
        "/.well-known/openid-configuration", headers={"host": "LOGIN.example.com.:8443"}
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["issuer"] == "https://login.example.com/"
    assert answer.json()["token_endpoint"] == "https://login.example.com/oauth/token"
    # A tenant reached by path is known by the public URL.
    by_path = client.get(
        f"/t/{tenant.id}/.well-known/openid-configuration", headers={"host": "evil.example"}
    )
    assert by_path.json()["issuer"] == f"{rt.public_url}/t/{tenant.id}/"
