"""Hostile inputs: each gets its documented error, and no user or credential row is written."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any

import cbor2
import pytest
from litestar.testing import TestClient

from latchkey.models import Tenant
from latchkey.runtime import Runtime
from latchkey.services import tenants
from latchkey.testing.authenticator import SoftAuthenticator, b64url, b64url_decode
from tests.ceremony_client import CeremonyClient, event_reasons, row_counts
from tests.support.clock import FakeClock
from tests.web_parties import ORIGIN


@pytest.fixture
def api(client: TestClient, tenant_and_secret: tuple[Tenant, str]) -> CeremonyClient:
    tenant, secret = tenant_and_secret
    return CeremonyClient(client, tenant.id, secret, ORIGIN)


@pytest.fixture
def unchanged(rt: Runtime) -> Iterator[None]:
    """Asserts the test wrote no user and no credential."""
    before = row_counts(rt.engine)
    yield
    assert row_counts(rt.engine) == before


def _error(answer: Any, status: int, code: str) -> None:
    assert answer.status_code == status, answer.text
    body = answer.json()
    assert body["error"] == code, body
    assert isinstance(body["message"], str)
    assert body["message"]


def _finish_registration(api: CeremonyClient, challenge_id: str, credential: Any) -> Any:
    return api.post("registration/verify", {"challengeId": challenge_id, "credential": credential})


# --- registration ---------------------------------------------------------------------------


def test_replayed_registration_challenge(api: CeremonyClient, rt: Runtime) -> None:
    begun = api.registration_options("u1")
    credential = SoftAuthenticator().create(begun["options"], origin=ORIGIN)
    assert _finish_registration(api, begun["challengeId"], credential).status_code == 200
    before = row_counts(rt.engine)
    again = SoftAuthenticator().create(begun["options"], origin=ORIGIN)
    _error(_finish_registration(api, begun["challengeId"], again), 400, "challenge_used")
    assert row_counts(rt.engine) == before


def test_expired_challenge(api: CeremonyClient, clock: FakeClock, unchanged: None) -> None:
    begun = api.registration_options("u1")
    credential = SoftAuthenticator().create(begun["options"], origin=ORIGIN)
    clock.advance(seconds=301)  # the default policy's timeout is 300 s
    _error(_finish_registration(api, begun["challengeId"], credential), 400, "challenge_expired")


def test_challenge_of_another_tenant(api: CeremonyClient, rt: Runtime, client: TestClient) -> None:
    other, other_secret = tenants.create(rt, rp_id="localhost", origins=[ORIGIN])
    other_api = CeremonyClient(client, other.id, other_secret, ORIGIN)
    begun = api.registration_options("u1")
    credential = SoftAuthenticator().create(begun["options"], origin=ORIGIN)
    _error(
        _finish_registration(other_api, begun["challengeId"], credential),
        404,
        "challenge_not_found",
    )
    assert row_counts(rt.engine) == {"users": 0, "credentials": 0}
    # ... and the attempt did not burn it for its own tenant.
    assert _finish_registration(api, begun["challengeId"], credential).status_code == 200


def test_authentication_challenge_cannot_finish_a_registration(
    api: CeremonyClient, unchanged: None
) -> None:
    auth = api.authentication_options()
    reg = api.registration_options("u1")
    credential = SoftAuthenticator().create(reg["options"], origin=ORIGIN)
    _error(_finish_registration(api, auth["challengeId"], credential), 404, "challenge_not_found")


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"origin": "http://localhost:6666"}, "origin_mismatch"),
        ({"origin": "https://evil.example"}, "origin_mismatch"),
        ({"rp_id": "evil.example"}, "rp_id_mismatch"),
        ({"challenge": b64url(b"x" * 32)}, "challenge_mismatch"),
        ({"client_data_type": "webauthn.get"}, "type_mismatch"),
        ({"user_present": False}, "user_presence_required"),
        ({"backup_eligible": False, "backup_state": True}, "invalid_backup_flags"),
    ],
)
def test_registration_response_defects(
    api: CeremonyClient, change: dict[str, Any], code: str, unchanged: None
) -> None:
    begun = api.registration_options("u1")
    change = dict(change)  # parameters are shared between the two database runs
    origin = change.pop("origin", ORIGIN)
    credential = SoftAuthenticator().create(begun["options"], origin=origin, **change)
    _error(_finish_registration(api, begun["challengeId"], credential), 400, code)


def test_user_verification_required_by_policy(
    api: CeremonyClient, rt: Runtime, unchanged: None
) -> None:
    tenants.update(rt, api.tenant_id, policy_changes={"user_verification": "required"})
    answer = api.register(SoftAuthenticator(), "u1", user_verified=False)
    _error(answer, 400, "user_verification_required")


def test_algorithm_not_allowed(api: CeremonyClient, rt: Runtime, unchanged: None) -> None:
    tenants.update(rt, api.tenant_id, policy_changes={"algorithms": ["ES256"]})
    begun = api.registration_options("u1")
    assert [p["alg"] for p in begun["options"]["pubKeyCredParams"]] == [-7]
    credential = SoftAuthenticator().create(begun["options"], origin=ORIGIN, alg=-8)
    _error(
        _finish_registration(api, begun["challengeId"], credential), 400, "unsupported_algorithm"
    )


def test_up_may_be_clear_only_for_a_conditional_create(api: CeremonyClient) -> None:
    begun = api.registration_options("u1")
    credential = SoftAuthenticator().create(begun["options"], origin=ORIGIN, user_present=False)
    _error(
        _finish_registration(api, begun["challengeId"], credential), 400, "user_presence_required"
    )
    begun = api.registration_options("u1")
    credential = SoftAuthenticator().create(begun["options"], origin=ORIGIN, user_present=False)
    answer = api.post(
        "registration/verify",
        {"challengeId": begun["challengeId"], "credential": credential, "conditionalCreate": True},
    )
    assert answer.status_code == 200, answer.text


def test_same_credential_registered_twice(api: CeremonyClient, rt: Runtime) -> None:
    authenticator = SoftAuthenticator()
    first = api.register(authenticator, "u1")
    assert first.status_code == 200
    cred_id = b64url_decode(first.json()["credential"]["credentialId"])
    before = row_counts(rt.engine)
    answer = api.register(SoftAuthenticator(), "u2", credential_id=cred_id)
    _error(answer, 409, "credential_exists")
    assert row_counts(rt.engine) == before


def _garbage_attestation(credential: dict[str, Any]) -> None:
    credential["response"]["attestationObject"] = b64url(b"\xa3\x63fmt\x64no")


def _truncated_attestation(credential: dict[str, Any]) -> None:
    raw = b64url_decode(credential["response"]["attestationObject"])
    credential["response"]["attestationObject"] = b64url(raw[: len(raw) // 2])


def _auth_data_truncated_in_valid_cbor(credential: dict[str, Any]) -> None:
    decoded = cbor2.loads(b64url_decode(credential["response"]["attestationObject"]))
    decoded["authData"] = decoded["authData"][:40]
    credential["response"]["attestationObject"] = b64url(cbor2.dumps(decoded))


def _client_data_not_json(credential: dict[str, Any]) -> None:
    credential["response"]["clientDataJSON"] = b64url(b"{not json")


def _not_base64(credential: dict[str, Any]) -> None:
    credential["response"]["clientDataJSON"] = "***"


def _ids_differ(credential: dict[str, Any]) -> None:
    credential["id"] = b64url(b"another id")


@pytest.mark.parametrize(
    "mangle",
    [
        _garbage_attestation,
        _truncated_attestation,
        _auth_data_truncated_in_valid_cbor,
        _client_data_not_json,
        _not_base64,
        _ids_differ,
    ],
)
def test_malformed_registration(api: CeremonyClient, mangle: Any, unchanged: None) -> None:
    begun = api.registration_options("u1")
    credential = SoftAuthenticator().create(begun["options"], origin=ORIGIN)
    mangle(credential)
    _error(_finish_registration(api, begun["challengeId"], credential), 400, "malformed_response")


# --- authentication -------------------------------------------------------------------------


@pytest.fixture
def enrolled(api: CeremonyClient) -> SoftAuthenticator:
    authenticator = SoftAuthenticator()
    assert api.register(authenticator, "alice").status_code == 200
    return authenticator


def test_replayed_assertion(api: CeremonyClient, enrolled: SoftAuthenticator) -> None:
    begun = api.authentication_options()
    assertion = enrolled.get(begun["options"], origin=ORIGIN)
    body = {"challengeId": begun["challengeId"], "credential": assertion}
    assert api.post("authentication/verify", body).status_code == 200
    _error(api.post("authentication/verify", body), 400, "challenge_used")


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"origin": "https://evil.example"}, "origin_mismatch"),
        ({"rp_id": "evil.example"}, "rp_id_mismatch"),
        ({"challenge": b64url(b"y" * 32)}, "challenge_mismatch"),
        ({"client_data_type": "webauthn.create"}, "type_mismatch"),
        ({"user_present": False}, "user_presence_required"),
    ],
)
def test_assertion_defects(
    api: CeremonyClient, enrolled: SoftAuthenticator, change: dict[str, Any], code: str
) -> None:
    begun = api.authentication_options()
    change = dict(change)  # parameters are shared between the two database runs
    origin = change.pop("origin", ORIGIN)
    assertion = enrolled.get(begun["options"], origin=origin, **change)
    answer = api.post(
        "authentication/verify", {"challengeId": begun["challengeId"], "credential": assertion}
    )
    _error(answer, 400, code)


def test_bad_signature(api: CeremonyClient, enrolled: SoftAuthenticator) -> None:
    begun = api.authentication_options()
    assertion = enrolled.get(begun["options"], origin=ORIGIN)
    signature = bytearray(b64url_decode(assertion["response"]["signature"]))
    signature[-1] ^= 0x01
    assertion["response"]["signature"] = b64url(bytes(signature))
    answer = api.post(
        "authentication/verify", {"challengeId": begun["challengeId"], "credential": assertion}
    )
    _error(answer, 400, "bad_signature")


def test_uv_required_at_sign_in(
    api: CeremonyClient, rt: Runtime, enrolled: SoftAuthenticator
) -> None:
    tenants.update(rt, api.tenant_id, policy_changes={"user_verification": "required"})
    _error(api.sign_in(enrolled, user_verified=False), 400, "user_verification_required")


def test_credential_of_another_tenant(
    api: CeremonyClient, rt: Runtime, client: TestClient, enrolled: SoftAuthenticator
) -> None:
    other, other_secret = tenants.create(rt, rp_id="localhost", origins=[ORIGIN])
    other_api = CeremonyClient(client, other.id, other_secret, ORIGIN)
    # Same RP ID, so the authenticator happily signs: only tenant isolation stops it.
    _error(other_api.sign_in(enrolled), 404, "credential_not_found")


def test_user_handle_of_another_user(api: CeremonyClient, enrolled: SoftAuthenticator) -> None:
    bob = SoftAuthenticator()
    assert api.register(bob, "bob").status_code == 200
    [bob_credential] = bob.credentials.values()
    assert bob_credential.user_handle is not None
    answer = api.sign_in(enrolled, user_handle=bob_credential.user_handle)
    _error(answer, 400, "user_handle_mismatch")


def test_discoverable_sign_in_needs_a_user_handle(
    api: CeremonyClient, enrolled: SoftAuthenticator
) -> None:
    _error(api.sign_in(enrolled, user_handle=None), 400, "user_handle_mismatch")


def test_passkey_of_another_user_when_user_was_named(
    api: CeremonyClient, enrolled: SoftAuthenticator
) -> None:
    bob = SoftAuthenticator()
    assert api.register(bob, "bob").status_code == 200
    begun = api.authentication_options("bob")
    [alice_id] = enrolled.credentials
    assertion = enrolled.get(begun["options"], origin=ORIGIN, credential_id=alice_id)
    answer = api.post(
        "authentication/verify", {"challengeId": begun["challengeId"], "credential": assertion}
    )
    _error(answer, 400, "credential_not_allowed")


def test_sign_count_regression_flags_a_possible_clone(
    api: CeremonyClient, rt: Runtime, enrolled: SoftAuthenticator
) -> None:
    assert api.sign_in(enrolled, sign_count=5).status_code == 200
    _error(api.sign_in(enrolled, sign_count=3), 400, "sign_count_regression")
    _error(api.sign_in(enrolled, sign_count=5), 400, "sign_count_regression")
    listed = api.http.get(
        f"/api/v1/tenants/{api.tenant_id}/users/alice/credentials", headers=api.headers
    ).json()["credentials"]
    assert listed[0]["signCount"] == 5
    assert listed[0]["possibleClone"] is True
    assert ("passkey.authentication", "failure", "sign_count_regression") in event_reasons(
        rt.engine
    )


def test_counter_zero_is_fine_for_synced_passkeys(api: CeremonyClient) -> None:
    synced = SoftAuthenticator(counter_step=0, backup_eligible=True, backup_state=True)
    assert api.register(synced, "carol").status_code == 200
    assert api.sign_in(synced).status_code == 200
    assert api.sign_in(synced).status_code == 200


def test_truncated_authenticator_data(api: CeremonyClient, enrolled: SoftAuthenticator) -> None:
    begun = api.authentication_options()
    assertion = enrolled.get(begun["options"], origin=ORIGIN)
    assertion["response"]["authenticatorData"] = assertion["response"]["authenticatorData"][:20]
    answer = api.post(
        "authentication/verify", {"challengeId": begun["challengeId"], "credential": assertion}
    )
    _error(answer, 400, "malformed_response")


def test_unknown_user_gets_no_options(api: CeremonyClient) -> None:
    _error(api.post("authentication/options", {"userId": "nobody"}), 404, "user_not_found")


# --- HTTP-level hostility -------------------------------------------------------------------


def test_malformed_json(api: CeremonyClient, unchanged: None) -> None:
    answer = api.http.post(
        f"/api/v1/tenants/{api.tenant_id}/registration/options",
        content=b'{"userId": ',
        headers={**api.headers, "content-type": "application/json"},
    )
    _error(answer, 400, "invalid_json")


@pytest.mark.parametrize(
    "body",
    [
        {"userId": 12},
        {"userId": ""},
        {"userId": "x" * 256},
        {"userId": "u", "unexpected": True},
        {"userId": "u", "authenticatorAttachment": "usb"},
        [],
        "text",
    ],
)
def test_wrong_types(api: CeremonyClient, body: Any, unchanged: None) -> None:
    _error(api.post("registration/options", body), 400, "invalid_request")


def test_verify_with_non_object_credential(api: CeremonyClient, unchanged: None) -> None:
    begun = api.registration_options("u1")
    answer = api.post("registration/verify", {"challengeId": begun["challengeId"], "credential": 5})
    _error(answer, 400, "invalid_request")


def test_unknown_challenge_id(api: CeremonyClient, unchanged: None) -> None:
    answer = api.post("registration/verify", {"challengeId": "nope", "credential": {}})
    _error(answer, 404, "challenge_not_found")


def test_oversized_body(api: CeremonyClient, unchanged: None) -> None:
    answer = api.post(
        "registration/verify", {"challengeId": "x", "credential": {"pad": "a" * 70_000}}
    )
    _error(answer, 413, "payload_too_large")


def test_oversized_body_without_content_length(api: CeremonyClient, unchanged: None) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"challengeId": "x", "credential": {"pad": "'
        for _ in range(100):
            yield b"a" * 1000
        yield b'"}}'

    answer = api.http.post(
        f"/api/v1/tenants/{api.tenant_id}/registration/verify",
        content=chunks(),
        headers={**api.headers, "content-type": "application/json"},
    )
    _error(answer, 413, "payload_too_large")


def test_unknown_tenant(api: CeremonyClient) -> None:
    answer = api.http.post(
        "/api/v1/tenants/00000000-0000-0000-0000-000000000000/registration/options",
        json={"userId": "u"},
        headers=api.headers,
    )
    _error(answer, 404, "tenant_not_found")


@pytest.mark.parametrize(
    "header",
    [
        None,
        "Basic " + base64.b64encode(b"lk_secret_wrong:").decode(),
        "Bearer lk_secret_wrong",
        "Basic !!!",
        "Digest abc",
    ],
)
def test_missing_or_wrong_secret(api: CeremonyClient, header: str | None) -> None:
    headers = {"authorization": header} if header else {}
    answer = api.http.post(
        f"/api/v1/tenants/{api.tenant_id}/registration/options",
        json={"userId": "u"},
        headers=headers,
    )
    _error(answer, 401, "invalid_api_key")


def test_key_of_another_tenant(api: CeremonyClient, rt: Runtime) -> None:
    _other, other_secret = tenants.create(rt, rp_id="localhost", origins=[ORIGIN])
    token = base64.b64encode(f"{other_secret}:".encode()).decode()
    answer = api.http.post(
        f"/api/v1/tenants/{api.tenant_id}/registration/options",
        json={"userId": "u"},
        headers={"authorization": f"Basic {token}"},
    )
    _error(answer, 404, "tenant_not_found")


def test_unknown_route_is_json(client: TestClient) -> None:
    _error(client.get("/nope"), 404, "not_found")


def test_failures_are_events_with_reasons(api: CeremonyClient, rt: Runtime) -> None:
    begun = api.registration_options("u1")
    credential = SoftAuthenticator().create(begun["options"], origin="https://evil.example")
    _finish_registration(api, begun["challengeId"], credential)
    assert event_reasons(rt.engine) == [("passkey.registration", "failure", "origin_mismatch")]


def test_deeply_nested_json_is_a_bad_request_on_every_surface(
    client: TestClient, tenant_and_secret: tuple[Tenant, str], unchanged: None
) -> None:
    """Past the decoder's recursion limit: 400 in each surface's shape, never a 500."""
    tenant = tenant_and_secret[0]
    body = b'{"a":' + b"[" * 5000 + b"]" * 5000 + b"}"
    surfaces = {
        "/v1/client/verify/passkey": lambda b: b["errorCode"],
        f"/{tenant.id}/identity/default/login/webauthn/finish": lambda b: b["error_code"],
        f"/t/{tenant.id}/oauth/token": lambda b: b["error"],
    }
    for path, code_of in surfaces.items():
        answer = client.post(path, content=body, headers={"content-type": "application/json"})
        assert answer.status_code == 400, (path, answer.text)
        assert code_of(answer.json()) in ("invalid_json", "invalid_request"), answer.text
