"""X-Forwarded-For and -Proto are believed only from configured proxies: by default a client
cannot pick the address its rate limit is counted under, nor claim TLS."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.live_server import create_tenant, free_port, serving

ORIGIN = "http://localhost:5002"
LIMIT = 5


def _server(tmp_path: Path, **env: str) -> Iterator[tuple[str, str]]:
    database_url = f"sqlite:///{tmp_path / 'proxies.db'}"
    tenant = create_tenant(database_url, [ORIGIN])
    port = free_port()
    settings = {"LATCHKEY_CHALLENGE_RATE_LIMIT": f"{LIMIT}/60", **env}
    with serving(database_url, port, settings):
        yield f"http://127.0.0.1:{port}", tenant["id"]


@pytest.fixture
def direct(tmp_path: Path) -> Iterator[tuple[str, str]]:
    yield from _server(tmp_path)


@pytest.fixture
def behind_proxy(tmp_path: Path) -> Iterator[tuple[str, str]]:
    yield from _server(tmp_path, LATCHKEY_TRUSTED_PROXIES="127.0.0.1,::1")


def _options(url: str, tenant_id: str, forwarded_for: str, proto: str = "http") -> httpx.Response:
    return httpx.post(
        f"{url}/{tenant_id}/identity/default/login/webauthn/options",
        json={},
        headers={"x-forwarded-for": forwarded_for, "x-forwarded-proto": proto},
        timeout=10,
    )


def test_forwarded_headers_from_a_client_are_ignored(direct: tuple[str, str]) -> None:
    url, tenant_id = direct
    statuses = [_options(url, tenant_id, f"203.0.113.{i}").status_code for i in range(LIMIT + 1)]
    # Every request counted under the real peer address, whatever it claimed.
    assert statuses == [200] * LIMIT + [429]
    assert "strict-transport-security" not in _options(url, tenant_id, "1.1.1.1", "https").headers


def test_forwarded_headers_from_a_trusted_proxy_are_used(behind_proxy: tuple[str, str]) -> None:
    url, tenant_id = behind_proxy
    spread = [_options(url, tenant_id, f"203.0.113.{i}").status_code for i in range(LIMIT + 1)]
    assert spread == [200] * (LIMIT + 1)  # six clients behind the proxy, one request each
    same = [_options(url, tenant_id, "198.51.100.7").status_code for _ in range(LIMIT + 1)]
    assert same == [200] * LIMIT + [429]
    limited = _options(url, tenant_id, "198.51.100.7")
    assert limited.json()["error_code"] == "rate_limited"
    assert int(limited.headers["retry-after"]) >= 1
    tls = _options(url, tenant_id, "192.0.2.1", "https")
    assert tls.headers["strict-transport-security"].startswith("max-age=")
