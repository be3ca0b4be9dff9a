"""The software authenticator is spec-correct: py_webauthn, an independent verifier, accepts it."""

from __future__ import annotations

import json

import pytest
from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers.exceptions import InvalidRegistrationResponse
from webauthn.helpers.structs import CredentialDeviceType

from latchkey.testing.authenticator import SoftAuthenticator, b64url_decode

ORIGIN = "https://login.example.com"


def _creation() -> dict:
    options = generate_registration_options(
        rp_id="example.com", rp_name="Example", user_name="ada", user_id=b"handle-1"
    )
    return json.loads(options_to_json(options))


@pytest.mark.parametrize("alg", [-7, -8, -257])
@pytest.mark.parametrize("attestation", ["none", "packed"])
def test_registration_and_assertions_verify(alg: int, attestation: str) -> None:
    authenticator = SoftAuthenticator()
    options = _creation()
    created = authenticator.create(options, origin=ORIGIN, alg=alg, attestation=attestation)
    registered = verify_registration_response(
        credential=created,
        expected_challenge=b64url_decode(options["challenge"]),
        expected_rp_id="example.com",
        expected_origin=ORIGIN,
        require_user_verification=True,
    )
    assert registered.fmt == attestation
    assert registered.credential_device_type == CredentialDeviceType.SINGLE_DEVICE
    count = 0
    for _ in range(2):
        request = json.loads(options_to_json(generate_authentication_options(rp_id="example.com")))
        assertion = authenticator.get(request, origin=ORIGIN)
        assert b64url_decode(assertion["response"]["userHandle"]) == b"handle-1"
        verified = verify_authentication_response(
            credential=assertion,
            expected_challenge=b64url_decode(request["challenge"]),
            expected_rp_id="example.com",
            expected_origin=ORIGIN,
            credential_public_key=registered.credential_public_key,
            credential_current_sign_count=count,
            require_user_verification=True,
        )
        assert verified.new_sign_count == count + 1
        count = verified.new_sign_count


def test_flags_are_what_was_asked() -> None:
    options = _creation()
    created = SoftAuthenticator(backup_eligible=True, backup_state=True).create(
        options, origin=ORIGIN, user_verified=False
    )
    with pytest.raises(InvalidRegistrationResponse, match="verification"):
        verify_registration_response(
            credential=created,
            expected_challenge=b64url_decode(options["challenge"]),
            expected_rp_id="example.com",
            expected_origin=ORIGIN,
            require_user_verification=True,
        )
    registered = verify_registration_response(
        credential=created,
        expected_challenge=b64url_decode(options["challenge"]),
        expected_rp_id="example.com",
        expected_origin=ORIGIN,
    )
    assert registered.credential_device_type == CredentialDeviceType.MULTI_DEVICE
    assert registered.credential_backed_up is True


def test_excluded_credential_and_missing_credential() -> None:
    authenticator = SoftAuthenticator()
    options = _creation()
    created = authenticator.create(options, origin=ORIGIN)
    options["excludeCredentials"] = [{"id": created["id"], "type": "public-key"}]
    with pytest.raises(ValueError, match="InvalidStateError"):
        authenticator.create(options, origin=ORIGIN)
    with pytest.raises(LookupError):
        SoftAuthenticator().get({"challenge": "AAAA", "rpId": "example.com"}, origin=ORIGIN)
