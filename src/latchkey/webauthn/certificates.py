"""Reading an attestation certificate as authenticators really encode it.

cryptography reads X.509 extensions as strict DER, and refuses a certificate that spells out a
DEFAULT value, such as `BasicConstraints cA FALSE` (Chromium's virtual authenticator and some
security keys send exactly that). The signatures over such a certificate are still good, and the
other verifiers (py_webauthn, SimpleWebAuthn, OpenSSL) accept it, so the extensions are read here
with pyasn1's BER decoder, which allows those encodings, while the certificate itself (version,
subject, key, signature) is still read by cryptography.
"""

from __future__ import annotations

from dataclasses import dataclass

from cryptography import x509
from pyasn1.codec.ber import decoder
from pyasn1.error import PyAsn1Error
from pyasn1_modules import rfc5280

from latchkey.webauthn.errors import MalformedResponse

BASIC_CONSTRAINTS = x509.oid.ExtensionOID.BASIC_CONSTRAINTS.dotted_string

# What cryptography raises for a certificate it cannot read: ValueError for bad DER, the others
# for a version other than v1/v3, or an unknown GeneralName type in the subject.
_UNREADABLE = (ValueError, x509.InvalidVersion, x509.UnsupportedGeneralNameType)
# What pyasn1 raises on bytes it cannot decode (RecursionError: absurdly nested input).
_UNDECODABLE = (PyAsn1Error, ValueError, TypeError, RecursionError)


@dataclass(frozen=True)
class Extension:
    critical: bool
    value: bytes  # the extnValue OCTET STRING's contents: the extension's own encoding


@dataclass(frozen=True)
class AttestationCertificate:
    certificate: x509.Certificate
    extensions: dict[str, Extension]  # by OID, dotted

    def extension(self, oid: x509.ObjectIdentifier) -> Extension | None:
        return self.extensions.get(oid.dotted_string)

    @property
    def is_ca(self) -> bool:
        """BasicConstraints cA (RFC 5280 §4.2.1.9); false when the extension is absent."""
        found = self.extensions.get(BASIC_CONSTRAINTS)
        if found is None:
            return False
        try:
            constraints, _ = decoder.decode(found.value, asn1Spec=rfc5280.BasicConstraints())
            return bool(constraints["cA"])
        except _UNDECODABLE as exc:
            raise MalformedResponse("unreadable BasicConstraints in the certificate") from exc


def read_certificate(der: bytes) -> AttestationCertificate:
    """One DER certificate from attStmt.x5c; MalformedResponse if it cannot be read."""
    try:
        certificate = x509.load_der_x509_certificate(der)
        # Read now, so that a bad name fails here and not in a later check.
        certificate.subject  # noqa: B018
    except _UNREADABLE as exc:
        raise MalformedResponse("the attestation certificate cannot be parsed") from exc
    return AttestationCertificate(certificate, _extensions(der))


def _extensions(der: bytes) -> dict[str, Extension]:
    try:
        decoded, rest = decoder.decode(der, asn1Spec=rfc5280.Certificate())
        found: dict[str, Extension] = {}
        listed = decoded["tbsCertificate"]["extensions"]
        for item in listed if listed.isValue else ():
            oid = str(item["extnID"])
            if oid in found:
                # RFC 5280 §4.2: a certificate must not include an extension twice.
                raise MalformedResponse(
                    f"the attestation certificate cannot be parsed: it repeats extension {oid}"
                )
            found[oid] = Extension(bool(item["critical"]), bytes(item["extnValue"]))
    except _UNDECODABLE as exc:
        raise MalformedResponse("the attestation certificate's extensions cannot be read") from exc
    if rest:
        raise MalformedResponse("the attestation certificate has trailing bytes")
    return found
