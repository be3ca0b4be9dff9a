"""Attestation policy around py_webauthn's statement verification (§7.1 steps 21-24, §8).

Closes the gaps the conformance corpus finds in py_webauthn 3.0.1: the §8.2.1 / §8.3.1 AAGUID
extension check, Google Hardware Attestation Root 1 as an android-key anchor, and a clock for
certificate validity so a stored response can be judged as of the time it was made.
"""

from __future__ import annotations

import contextlib
import importlib
import time as _time
from collections.abc import Iterator, Mapping, Sequence
from contextvars import ContextVar
from datetime import datetime
from importlib.resources import files
from typing import Any

from cryptography import x509
from OpenSSL.crypto import X509Store
from webauthn.helpers import validate_certificate_chain as _chain_function

from latchkey.webauthn.certificates import AttestationCertificate, read_certificate
from latchkey.webauthn.errors import (
    AttestationAaguidMismatch,
    InvalidAttestation,
    MalformedResponse,
)

# id-fido-gen-ce-aaguid (§8.2.1): the certificate names the authenticator model it was issued to.
AAGUID_EXTENSION = x509.ObjectIdentifier("1.3.6.1.4.1.45724.1.1.4")

_checked_at: ContextVar[datetime | None] = ContextVar("attestation_checked_at", default=None)
# The RP holds no trust anchor for this statement's format: the chain is not checked (the
# signature and certificate contents still are).
_no_anchor: ContextVar[bool] = ContextVar("attestation_no_anchor", default=False)
_FORMAT_MODULES = ("android_key", "android_safetynet", "apple", "fido_u2f", "packed", "tpm")


def default_trust_anchors() -> dict[str, list[bytes]]:
    """Anchors py_webauthn lacks; its own Apple, SafetyNet and later Google roots still apply."""
    root_1 = files("latchkey.data").joinpath("google-hardware-attestation-root-1.pem")
    return {"android-key": [root_1.read_bytes()]}


@contextlib.contextmanager
def certificates_checked_at(moment: datetime | None, *, no_anchor: bool = False) -> Iterator[None]:
    """Judge certificate validity (and SafetyNet freshness) as of `moment` instead of now;
    with `no_anchor`, do not chain the statement's certificates to a root."""
    token = _checked_at.set(moment)
    anchor_token = _no_anchor.set(no_anchor)
    try:
        yield
    finally:
        _no_anchor.reset(anchor_token)
        _checked_at.reset(token)


def _cert_store() -> X509Store:
    store = X509Store()
    moment = _checked_at.get()
    if moment is not None:
        store.set_time(moment.replace(tzinfo=None))
    return store


class _SafetyNetClock:
    @staticmethod
    def time() -> float:
        moment = _checked_at.get()
        return moment.timestamp() if moment is not None else _time.time()


def _install_clock() -> None:
    # py_webauthn names `_generate_new_cert_store` as its seam for judging certificates at another
    # time; a ContextVar keeps the moment per request, so concurrent ceremonies do not share it.
    chain_module: Any = importlib.import_module(_chain_function.__module__)
    chain_module._generate_new_cert_store = _cert_store
    safetynet: Any = importlib.import_module("webauthn.helpers.verify_safetynet_timestamp")
    safetynet.time = _SafetyNetClock
    # Each format module calls the chain check it imported; a declared "no anchor" skips it.
    for name in _FORMAT_MODULES:
        module: Any = importlib.import_module(f"webauthn.registration.formats.{name}")
        module.validate_certificate_chain = _chain_unless_no_anchor


def _chain_unless_no_anchor(**kwargs: Any) -> bool:
    if _no_anchor.get():
        return True
    return bool(_chain_function(**kwargs))


_install_clock()


def merge_anchors(extra: Mapping[str, Sequence[bytes]] | None) -> dict[str, list[bytes]]:
    anchors = default_trust_anchors()
    for fmt, pems in (extra or {}).items():
        anchors.setdefault(fmt, []).extend(pems)
    return anchors


def _attestation_certificate(x5c: Any) -> AttestationCertificate | None:
    """attStmt.x5c[0], from x5c as the client's CBOR has it: an array of DER byte strings."""
    if x5c is None:
        return None
    if not isinstance(x5c, list) or not all(isinstance(der, bytes) for der in x5c):
        raise MalformedResponse("attStmt.x5c must be an array of DER certificates")
    if not x5c:
        return None
    return read_certificate(x5c[0])


def check_packed_certificate(x5c: Any) -> None:
    """§8.2.1 "Packed Attestation Statement Certificate Requirements", which py_webauthn skips.

    Without them an android-key statement ({alg, sig, x5c}, the same shape) relabelled "packed"
    verifies, and escapes the android-key trust anchors.
    """
    read = _attestation_certificate(x5c)
    if read is None:
        return  # self attestation: no certificate
    certificate = read.certificate
    subject = certificate.subject

    def named(oid: x509.ObjectIdentifier) -> str:
        found = subject.get_attributes_for_oid(oid)
        value = found[0].value if len(found) == 1 else None
        return value if isinstance(value, str) else ""

    if certificate.version != x509.Version.v3:
        raise InvalidAttestation("the packed attestation certificate is not X.509 version 3")
    country = named(x509.NameOID.COUNTRY_NAME)
    if not (len(country) == 2 and country.isalpha()):
        raise InvalidAttestation("the packed attestation certificate's Subject-C is not a country")
    if not named(x509.NameOID.ORGANIZATION_NAME) or not named(x509.NameOID.COMMON_NAME):
        raise InvalidAttestation("the packed attestation certificate lacks Subject-O or Subject-CN")
    if named(x509.NameOID.ORGANIZATIONAL_UNIT_NAME) != "Authenticator Attestation":
        raise InvalidAttestation(
            'the packed attestation certificate\'s Subject-OU is not "Authenticator Attestation"'
        )
    if read.is_ca:
        raise InvalidAttestation("the packed attestation certificate is a CA certificate")


def check_aaguid_extension(x5c: Any, aaguid: bytes) -> None:
    """§8.2.1 (packed), §8.3.1 (tpm): id-fido-gen-ce-aaguid, when present, is authData's AAGUID."""
    read = _attestation_certificate(x5c)
    extension = read.extension(AAGUID_EXTENSION) if read is not None else None
    if extension is None:
        return
    raw = extension.value
    # The extension's value is an OCTET STRING holding the 16-byte AAGUID: 04 10 <16 bytes>.
    if len(raw) != 18 or raw[:2] != b"\x04\x10":
        raise AttestationAaguidMismatch("the certificate's AAGUID extension is not 16 bytes")
    if extension.critical:
        raise AttestationAaguidMismatch("the certificate's AAGUID extension must not be critical")
    if raw[2:] != aaguid:
        raise AttestationAaguidMismatch(
            "the attestation certificate names another AAGUID than the authenticator data"
        )
