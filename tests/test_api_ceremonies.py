"""Full passkey round trips over HTTP with real cryptography, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from litestar.testing import TestClient

from latchkey.models import Tenant
from latchkey.runtime import Runtime
from latchkey.testing.authenticator import SoftAuthenticator
from tests.ceremony_client import CeremonyClient, event_reasons, row_counts
from tests.web_parties import ORIGIN

ICLOUD = bytes.fromhex("fbfc3007154e4ecc8c0b6e020557d7bd")


@pytest.fixture
def api(client: TestClient, tenant_and_secret: tuple[Tenant, str]) -> CeremonyClient:
    tenant, secret = tenant_and_secret
    return CeremonyClient(client, tenant.id, secret, ORIGIN)


@pytest.mark.parametrize("alg", [-7, -8, -257])
def test_register_then_sign_in_discoverable_and_by_user(
    api: CeremonyClient, rt: Runtime, alg: int
) -> None:
    authenticator = SoftAuthenticator()
    options = api.registration_options("user-1", username="ada@example.com", displayName="Ada")
    created = options["options"]
    assert created["rp"] == {"id": "localhost", "name": "Test"}
    assert created["user"]["name"] == "ada@example.com"
    assert created["extensions"] == {"credProps": True}
    assert [p["alg"] for p in created["pubKeyCredParams"]] == [-7, -8, -257]
    credential = authenticator.create(created, origin=ORIGIN, alg=alg)
    registered = api.post(
        "registration/verify", {"challengeId": options["challengeId"], "credential": credential}
    )
    assert registered.status_code == 200, registered.text
    body = registered.json()
    assert body["user"] == {"userId": "user-1", "username": "ada@example.com", "displayName": "Ada"}
    assert body["credential"]["credentialId"] == credential["id"]
    assert body["credential"]["transports"] == ["internal"]
    assert body["credential"]["discoverable"] is True

    # Discoverable sign-in (the button / autofill): no user named, empty allowCredentials.
    discoverable = api.sign_in(authenticator)
    assert discoverable.status_code == 200, discoverable.text
    assert discoverable.json()["user"]["userId"] == "user-1"
    assert discoverable.json()["credential"]["signCount"] == 1

    # Identified first: allowCredentials lists the user's passkey.
    options = api.authentication_options("user-1")
    assert [c["id"] for c in options["options"]["allowCredentials"]] == [credential["id"]]
    assertion = authenticator.get(options["options"], origin=ORIGIN)
    signed_in = api.post(
        "authentication/verify", {"challengeId": options["challengeId"], "credential": assertion}
    )
    assert signed_in.status_code == 200, signed_in.text
    assert signed_in.json()["credential"]["signCount"] == 2
    assert signed_in.json()["credential"]["lastUsedAt"] is not None

    assert row_counts(rt.engine) == {"users": 1, "credentials": 1}
    assert sorted(event_reasons(rt.engine)) == sorted(
        [
            ("passkey.registration", "success", None),
            ("passkey.authentication", "success", None),
            ("passkey.authentication", "success", None),
        ]
    )


def test_second_passkey_lists_the_first_in_exclude_credentials(api: CeremonyClient) -> None:
    phone, laptop = SoftAuthenticator(), SoftAuthenticator()
    first = api.register(phone, "user-2").json()["credential"]["credentialId"]
    options = api.registration_options("user-2")["options"]
    assert [c["id"] for c in options["excludeCredentials"]] == [first]
    # The authenticator that holds the first passkey refuses, as browsers do (InvalidStateError).
    with pytest.raises(ValueError, match="exclude"):
        phone.create(options, origin=ORIGIN)
    assert api.register(laptop, "user-2").status_code == 200
    listed = api.http.get(
        f"/api/v1/tenants/{api.tenant_id}/users/user-2/credentials", headers=api.headers
    )
    assert listed.status_code == 200
    assert len(listed.json()["credentials"]) == 2


def test_credential_named_after_its_provider(api: CeremonyClient) -> None:
    synced = SoftAuthenticator(aaguid=ICLOUD, backup_eligible=True, backup_state=True)
    body = api.register(synced, "user-3").json()["credential"]
    assert body["name"] == "iCloud Keychain"
    assert body["provider"] == "iCloud Keychain"
    assert body["deviceType"] == "multi_device"
    assert body["backedUp"] is True


def test_synced_passkeys_refused_when_policy_says_device_bound(
    api: CeremonyClient, rt: Runtime
) -> None:
    from latchkey.services import tenants

    tenants.update(rt, api.tenant_id, policy_changes={"allow_synced": False})
    answer = api.register(SoftAuthenticator(backup_eligible=True), "user-4")
    assert answer.status_code == 400
    assert answer.json()["error"] == "synced_passkey_not_allowed"
    assert api.register(SoftAuthenticator(), "user-4").status_code == 200


def test_events_endpoint_lists_the_tenants_events(api: CeremonyClient) -> None:
    api.register(SoftAuthenticator(), "user-5")
    listed = api.http.get(f"/api/v1/tenants/{api.tenant_id}/events", headers=api.headers)
    assert listed.status_code == 200
    [event] = listed.json()["events"]
    assert event["kind"] == "passkey.registration"
    assert event["outcome"] == "success"
    assert event["userAgent"] == "testclient"


def test_health_and_openapi(client: TestClient) -> None:
    assert client.get("/health").json()["status"] == "ok"
    paths = client.get("/openapi.json").json()["paths"]
    assert "/api/v1/tenants/{tenant_id}/authentication/verify" in paths
