"""A test attestation CA: a root, and batch certificates for a software authenticator model.

Lets tests make `packed` statements with a certificate chain (§8.2, "basic" attestation) for a
model whose root the test puts in its own metadata, including the non-strict DER some real
authenticators send (an explicit `BasicConstraints cA FALSE`).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtensionOID, NameOID

AAGUID_EXTENSION = x509.ObjectIdentifier("1.3.6.1.4.1.45724.1.1.4")
# BasicConstraints { cA FALSE } with the DEFAULT spelt out: BER, not DER (X.690 §11.5).
EXPLICIT_CA_FALSE = b"\x30\x03\x01\x01\x00"


def _name(common_name: str, *, unit: str | None) -> x509.Name:
    parts = [
        x509.NameAttribute(NameOID.COUNTRY_NAME, "SE"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Latchkey Test Authenticators"),
    ]
    if unit:
        parts.append(x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, unit))
    parts.append(x509.NameAttribute(NameOID.COMMON_NAME, common_name))
    return x509.Name(parts)


@dataclass
class AttestationCA:
    """A root CA; `batch()` issues the certificate a model's authenticators attest with."""

    name: str = "Latchkey Test Attestation Root"
    key: ec.EllipticCurvePrivateKey = field(
        default_factory=lambda: ec.generate_private_key(ec.SECP256R1())
    )

    def __post_init__(self) -> None:
        now = datetime.now(UTC)
        subject = _name(self.name, unit=None)
        self.certificate = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(subject)
            .public_key(self.key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=1))
            .not_valid_after(now + timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=False,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=True,
                    crl_sign=True,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .sign(self.key, hashes.SHA256())
        )

    @property
    def der(self) -> bytes:
        return self.certificate.public_bytes(serialization.Encoding.DER)

    @property
    def pem(self) -> bytes:
        return self.certificate.public_bytes(serialization.Encoding.PEM)

    def batch(
        self,
        aaguid: bytes | None,
        *,
        explicit_ca_false: bool = False,
        ca: bool = False,
        unit: str = "Authenticator Attestation",
    ) -> tuple[ec.EllipticCurvePrivateKey, bytes]:
        """A batch key and its DER certificate, naming `aaguid` in id-fido-gen-ce-aaguid."""
        key = ec.generate_private_key(ec.SECP256R1())
        now = datetime.now(UTC)
        label = str(uuid.UUID(bytes=aaguid)) if aaguid else "U2F"
        builder = (
            x509.CertificateBuilder()
            .subject_name(_name(f"Test batch {label}", unit=unit))
            .issuer_name(self.certificate.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=1))
            .not_valid_after(now + timedelta(days=365))
        )
        if explicit_ca_false:
            builder = builder.add_extension(
                x509.UnrecognizedExtension(ExtensionOID.BASIC_CONSTRAINTS, EXPLICIT_CA_FALSE),
                critical=True,
            )
        else:
            builder = builder.add_extension(
                x509.BasicConstraints(ca=ca, path_length=None), critical=True
            )
        if aaguid is not None:
            # §8.2.1: the extension's value is an OCTET STRING holding the AAGUID.
            builder = builder.add_extension(
                x509.UnrecognizedExtension(AAGUID_EXTENSION, b"\x04\x10" + aaguid),
                critical=False,
            )
        certificate = builder.sign(self.key, hashes.SHA256())
        return key, certificate.public_bytes(serialization.Encoding.DER)
