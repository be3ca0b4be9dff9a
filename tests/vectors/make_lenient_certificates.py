"""Writes lenient-certificates.json: packed registrations whose attestation certificate is not
strict DER (an explicit `BasicConstraints cA FALSE`, as Chromium's virtual authenticator sends).

Run once (`python tests/vectors/make_lenient_certificates.py`); the vectors are in the
conformance corpus's format, judged as of `trust_path_checked_at` with no attestation root.
"""

from __future__ import annotations

import base64
import json
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from latchkey.testing.attestation_ca import AttestationCA
from latchkey.testing.authenticator import SoftAuthenticator

RP_ID, ORIGIN = "lenient.example", "https://lenient.example"
CHALLENGE = b"lenient certificate challenge 32"
MODEL = uuid.UUID("6d44ba9b-f6ec-4e29-9a27-7b1a4c3b0f01").bytes
OTHER = uuid.UUID("6d44ba9b-f6ec-4e29-9a27-7b1a4c3b0f02").bytes


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _vector(
    vector_id: str, description: str, *, cert_aaguid: bytes, ca: AttestationCA, **expected: Any
) -> dict[str, Any]:
    key, der = ca.batch(cert_aaguid, explicit_ca_false=True)
    authenticator = SoftAuthenticator(
        aaguid=MODEL, attachment="cross-platform", batch_key=key, batch_chain=[der]
    )
    options = {
        "rp": {"id": RP_ID, "name": "Lenient"},
        "user": {"id": _b64url(b"user-1"), "name": "user", "displayName": "User"},
        "challenge": _b64url(CHALLENGE),
        "pubKeyCredParams": [{"type": "public-key", "alg": -7}],
    }
    credential = authenticator.create(options, origin=ORIGIN, attestation="packed")
    return {
        "id": vector_id,
        "description": description,
        "authenticator": "Latchkey software authenticator (tests)",
        "ceremony": "registration",
        "rp_id": RP_ID,
        "expected_origin": ORIGIN,
        "expected_challenge": _b64url(CHALLENGE),
        "require_user_verification": False,
        "require_user_presence": True,
        "allowed_algorithms": [-7],
        "attestation_roots": "none",
        "trust_path_checked_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "credential": credential,
        "expected": expected,
    }


def main() -> None:
    ca = AttestationCA()
    vectors = [
        _vector(
            "reg-lenient-explicit-ca-false",
            "packed x5c whose certificate encodes BasicConstraints cA FALSE explicitly",
            cert_aaguid=MODEL,
            ca=ca,
            verdict="accept",
            fmt="packed",
            aaguid=str(uuid.UUID(bytes=MODEL)),
        ),
        _vector(
            "reg-lenient-explicit-ca-false-aaguid-mismatch",
            "the same non-strict certificate naming another AAGUID than authenticator data",
            cert_aaguid=OTHER,
            ca=ca,
            verdict="reject",
            reason="attestation_aaguid_mismatch",
        ),
    ]
    out = Path(__file__).with_name("lenient-certificates.json")
    out.write_text(json.dumps(vectors, indent=1) + "\n")


if __name__ == "__main__":
    main()
