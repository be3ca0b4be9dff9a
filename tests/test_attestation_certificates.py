"""Attestation certificates as authenticators encode them: extensions read leniently (issue 19).

The vectors in tests/vectors/lenient-certificates.json carry an explicit `BasicConstraints cA
FALSE` (BER, not DER), as Chromium's virtual authenticator sends; cryptography's strict reader
refuses them, py_webauthn and SimpleWebAuthn accept them, and so must Latchkey, with the
§8.2.1 AAGUID check still applied.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from pyasn1.codec.ber import decoder
from pyasn1.codec.der import encoder
from pyasn1_modules import rfc5280
from webauthn.helpers import base64url_to_bytes, parse_attestation_object

from latchkey.errors import VerificationError
from latchkey.testing.attestation_ca import AttestationCA
from latchkey.webauthn.attestation import check_aaguid_extension, check_packed_certificate
from latchkey.webauthn.certificates import read_certificate
from latchkey.webauthn.registration_verification import verify_registration_response

VECTORS = json.loads((Path(__file__).parent / "vectors" / "lenient-certificates.json").read_text())
AAGUID = bytes.fromhex("6d44ba9bf6ec4e299a277b1a4c3b0f01")


def _x5c(vector: dict[str, Any]) -> list[bytes]:
    raw = base64url_to_bytes(vector["credential"]["response"]["attestationObject"])
    return list(parse_attestation_object(raw).att_stmt.x5c or [])


def _verify(vector: dict[str, Any]) -> Any:
    return verify_registration_response(
        credential=vector["credential"],
        expected_challenge=base64url_to_bytes(vector["expected_challenge"]),
        rp_id=vector["rp_id"],
        origins=[vector["expected_origin"]],
        allowed_algorithms=vector["allowed_algorithms"],
        require_user_verification=vector["require_user_verification"],
        checked_at=datetime.fromisoformat(vector["trust_path_checked_at"]),
    )


@pytest.mark.parametrize("vector", VECTORS, ids=[v["id"] for v in VECTORS])
def test_vector_is_not_strict_der(vector: dict[str, Any]) -> None:
    """The vector really is what the strict reader refuses (else it would test nothing)."""
    certificate = x509.load_der_x509_certificate(_x5c(vector)[0])
    with pytest.raises(ValueError, match="EncodedDefault"):
        certificate.extensions  # noqa: B018


@pytest.mark.parametrize("vector", VECTORS, ids=[v["id"] for v in VECTORS])
def test_vector_verdict(vector: dict[str, Any]) -> None:
    expected = vector["expected"]
    if expected["verdict"] == "accept":
        result = _verify(vector)
        assert (result.fmt, result.aaguid) == (expected["fmt"], expected["aaguid"])
        return
    with pytest.raises(VerificationError) as caught:
        _verify(vector)
    assert caught.value.code == expected["reason"]


def test_explicit_ca_false_is_read_as_not_a_ca() -> None:
    _, der = AttestationCA().batch(AAGUID, explicit_ca_false=True)
    read = read_certificate(der)
    assert read.is_ca is False
    check_packed_certificate([der])
    check_aaguid_extension([der], AAGUID)


def test_aaguid_check_still_applies_to_a_lenient_certificate() -> None:
    _, der = AttestationCA().batch(AAGUID, explicit_ca_false=True)
    with pytest.raises(VerificationError) as caught:
        check_aaguid_extension([der], bytes(16))
    assert caught.value.code == "attestation_aaguid_mismatch"


def test_a_ca_certificate_is_still_refused_as_packed_attestation() -> None:
    _, der = AttestationCA().batch(AAGUID, ca=True)
    with pytest.raises(VerificationError) as caught:
        check_packed_certificate([der])
    assert caught.value.code == "invalid_attestation"
    assert "CA certificate" in str(caught.value)


def test_an_extension_listed_twice_is_malformed() -> None:
    """RFC 5280 §4.2: each extension at most once; the lenient reader still insists."""
    _, der = AttestationCA().batch(AAGUID)
    decoded, _ = decoder.decode(der, asn1Spec=rfc5280.Certificate())
    extensions = decoded["tbsCertificate"]["extensions"]
    extensions.append(extensions[len(extensions) - 1])
    with pytest.raises(VerificationError) as caught:
        read_certificate(encoder.encode(decoded))
    assert caught.value.code == "malformed_response"
    assert "repeats extension" in str(caught.value)


@pytest.mark.parametrize("garbage", [b"", b"\x30\x03\x02\x01\x01", b"\x30" * 64])
def test_unreadable_certificate_is_malformed(garbage: bytes) -> None:
    with pytest.raises(VerificationError) as caught:
        read_certificate(garbage)
    assert caught.value.code == "malformed_response"
