"""A test FIDO Metadata Service: signs MDS3 blobs (a JWT, FIDO MDS 3.0 §3.2) with a chain that
ends at a root the test installs, and writes entries for test authenticator models."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from joserfc import jws
from joserfc.jwk import RSAKey

# A 1x1 PNG: metadata icons are data: URIs (MDS3 §4.5).
ICON = (
    "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGNgYPj/"
    "HwADAgH/p2m5ZQAAAABJRU5ErkJggg=="
)


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Latchkey Test MDS"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _rsa() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@dataclass
class MdsSigner:
    """A root CA and the signing certificate it issued, as the FIDO service has."""

    root_key: rsa.RSAPrivateKey = field(default_factory=_rsa)
    signing_key: rsa.RSAPrivateKey = field(default_factory=_rsa)

    def __post_init__(self) -> None:
        now = datetime.now(UTC)
        self.root = (
            x509.CertificateBuilder()
            .subject_name(_name("Test MDS Root"))
            .issuer_name(_name("Test MDS Root"))
            .public_key(self.root_key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=1))
            .not_valid_after(now + timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(self.root_key, hashes.SHA256())
        )
        self.leaf = (
            x509.CertificateBuilder()
            .subject_name(_name("Test MDS Signer"))
            .issuer_name(self.root.subject)
            .public_key(self.signing_key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=1))
            .not_valid_after(now + timedelta(days=365))
            .sign(self.root_key, hashes.SHA256())
        )

    @property
    def root_der(self) -> bytes:
        return self.root.public_bytes(serialization.Encoding.DER)

    @property
    def root_pem(self) -> bytes:
        return self.root.public_bytes(serialization.Encoding.PEM)

    def sign(self, payload: dict[str, Any]) -> bytes:
        leaf = base64.b64encode(self.leaf.public_bytes(serialization.Encoding.DER)).decode()
        key = RSAKey.import_key(
            self.signing_key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        header = {"alg": "RS256", "typ": "JWT", "x5c": [leaf]}
        token = jws.serialize_compact(header, json.dumps(payload).encode(), key)
        return token.encode()


def entry(
    aaguid: str,
    description: str,
    *,
    root_der: bytes,
    statuses: list[tuple[str, str]],
    key_protection: tuple[str, ...] = ("hardware", "secure_element"),
    attachment_hint: tuple[str, ...] = ("external", "wired"),
) -> dict[str, Any]:
    """An MDS3 entry (FIDO MDS 3.0 §3.1.1) for a test model; statuses: (status, effectiveDate)."""
    return {
        "aaguid": aaguid,
        "metadataStatement": {
            "legalHeader": "test",
            "aaguid": aaguid,
            "description": description,
            "authenticatorVersion": 1,
            "protocolFamily": "fido2",
            "schema": 3,
            "upv": [{"major": 1, "minor": 0}],
            "authenticationAlgorithms": ["secp256r1_ecdsa_sha256_raw"],
            "publicKeyAlgAndEncodings": ["cose"],
            "attestationTypes": ["basic_full"],
            "userVerificationDetails": [[{"userVerificationMethod": "presence_internal"}]],
            "keyProtection": list(key_protection),
            "matcherProtection": ["on_chip"],
            "attachmentHint": list(attachment_hint),
            "tcDisplay": [],
            "attestationRootCertificates": [base64.b64encode(root_der).decode()],
            "icon": ICON,
        },
        "statusReports": [{"status": s, "effectiveDate": d} for s, d in statuses],
        "timeOfLastStatusChange": max(d for _, d in statuses),
    }


def payload(
    no: int, entries: list[dict[str, Any]], *, next_update: date | None = None
) -> dict[str, Any]:
    return {
        "legalHeader": "test",
        "no": no,
        "nextUpdate": (next_update or date.today() + timedelta(days=30)).isoformat(),
        "entries": entries,
    }
