"""The passkey policy's validation and its effect on options."""

from __future__ import annotations

import pytest

from latchkey.errors import ConfigError
from latchkey.webauthn.authentication_options import generate_authentication_options
from latchkey.webauthn.descriptors import CredentialRef
from latchkey.webauthn.policy import PasskeyPolicy
from latchkey.webauthn.registration_options import generate_registration_options


def test_defaults() -> None:
    policy = PasskeyPolicy()
    assert policy.algorithm_ids == (-7, -8, -257)
    assert policy.user_verification == "preferred"
    assert policy.allow_synced is True
    assert PasskeyPolicy.from_dict(policy.to_dict()) == policy


@pytest.mark.parametrize(
    ("changes", "says"),
    [
        ({"user_verification": "always"}, "user_verification 'always'"),
        ({"resident_key": "yes"}, "resident_key"),
        ({"attestation": "full"}, "attestation"),
        ({"algorithms": []}, "at least one"),
        ({"algorithms": ["ES999"]}, "ES999"),
        ({"algorithms": ["ES256", "ES256"]}, "twice"),
        ({"timeout_ms": 10}, "timeout_ms 10"),
        ({"timeout_ms": "60000"}, "integer"),
        ({"allow_synced": "no"}, "true or false"),
        ({"colour": "red"}, "unknown policy setting"),
        ({"authenticator_attachment": "usb"}, "authenticator_attachment"),
    ],
)
def test_bad_policy_values(changes: dict[str, object], says: str) -> None:
    with pytest.raises(ConfigError) as error:
        PasskeyPolicy.from_dict(PasskeyPolicy().to_dict() | changes)
    assert says in error.value.message


def test_registration_options_follow_the_policy() -> None:
    policy = PasskeyPolicy(
        user_verification="required",
        resident_key="preferred",
        attestation="direct",
        algorithms=("EdDSA", "ES256"),
        timeout_ms=120_000,
        authenticator_attachment="cross-platform",
    )
    options = generate_registration_options(
        rp_id="example.com",
        rp_name="Example",
        user_handle=b"\x01" * 32,
        user_name="ada",
        user_display_name="Ada",
        challenge=b"\x02" * 32,
        policy=policy,
        exclude=[CredentialRef(b"\x03" * 16, ("usb", "nfc", "made-up"))],
    )
    assert [p["alg"] for p in options["pubKeyCredParams"]] == [-8, -7]
    assert options["authenticatorSelection"] == {
        "authenticatorAttachment": "cross-platform",
        "residentKey": "preferred",
        "requireResidentKey": False,
        "userVerification": "required",
    }
    assert options["attestation"] == "direct"
    assert options["timeout"] == 120_000
    assert options["excludeCredentials"] == [
        {"id": "AwMDAwMDAwMDAwMDAwMDAw", "type": "public-key", "transports": ["usb", "nfc"]}
    ]
    assert options["user"] == {
        "id": "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE",
        "name": "ada",
        "displayName": "Ada",
    }


def test_authentication_options_discoverable_has_empty_allow_list() -> None:
    options = generate_authentication_options(
        rp_id="example.com",
        challenge=b"\x05" * 32,
        policy=PasskeyPolicy(user_verification="required"),
    )
    assert options["allowCredentials"] == []
    assert options["userVerification"] == "required"
    assert options["rpId"] == "example.com"
