"""Two Latchkey servers on one PostgreSQL behave as one service: a ceremony begun on one
finishes on the other, and every challenge and token is used once across both."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from latchkey.testing.authenticator import SoftAuthenticator
from tests.live_server import create_tenant, free_port, serving
from tests.support.database import postgres_schema

ORIGIN = "http://localhost:5002"
pytestmark = pytest.mark.postgres


@pytest.fixture
def shared_database() -> Iterator[str]:
    with postgres_schema() as url:
        yield url


def test_ceremonies_alternate_between_nodes(shared_database: str) -> None:
    tenant = create_tenant(shared_database, [ORIGIN])
    ports = free_port(), free_port()
    secret = base64.b64encode(f"{tenant['secret_key']}:".encode()).decode()
    backend = {"authorization": f"Basic {secret}"}
    browser = {"authorization": "Basic " + base64.b64encode(tenant["id"].encode()).decode()}
    authenticator = SoftAuthenticator()
    with serving(shared_database, ports[0]), serving(shared_database, ports[1]):
        nodes = [httpx.Client(base_url=f"http://127.0.0.1:{p}/v1", timeout=10) for p in ports]

        def post(node: int, path: str, body: Any, headers: dict[str, str]) -> httpx.Response:
            return nodes[node % 2].post(path, json=body, headers=headers)

        # Sign up: track on one node, options on the other, the passkey on the first.
        token = post(0, "/users/u-1/actions/add-passkey", {}, backend).json()["token"]
        bearer = {"authorization": f"Bearer {token}"}
        begun = post(1, "/client/user-authenticators/passkey/registration-options", {}, bearer)
        created = authenticator.create(begun.json()["options"], origin=ORIGIN)
        body = {"registrationCredential": created, "challengeId": begun.json()["challengeId"]}
        signed_up = post(0, "/client/user-authenticators/passkey", body, bearer)
        assert signed_up.status_code == 200, signed_up.text

        for i in range(12):
            begun = post(
                i, "/client/user-authenticators/passkey/authentication-options", {}, browser
            )
            assertion = authenticator.get(begun.json()["options"], origin=ORIGIN)
            body = {
                "authenticationCredential": assertion,
                "challengeId": begun.json()["challengeId"],
            }
            verified = post(i + 1, "/client/verify/passkey", body, browser)
            assert verified.status_code == 200, verified.text
            replayed = post(i, "/client/verify/passkey", body, browser)
            assert replayed.status_code == 400
            assert replayed.json()["errorCode"] == "challenge_used"
            result = {"token": verified.json()["accessToken"]}
            assert post(i, "/validate", result, backend).json()["isValid"] is True
            assert post(i + 1, "/validate", result, backend).json()["isValid"] is False
        for node in nodes:
            node.close()
