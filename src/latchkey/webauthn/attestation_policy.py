"""A tenant's attestation policy, enforced at registration (§7.1 steps 21-24, §8; FIDO MDS3).

Which trust anchors a statement must chain to (the model's metadata roots, the operator's
anchors, or none where the operator declared it holds none for that format), and what the
verified model may be: not reported compromised, allowed, certified, hardware-protected, of the
attachment the tenant asks for.
"""

from __future__ import annotations

import ssl
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from latchkey.metadata.entries import CERTIFICATION_LEVELS, AuthenticatorModel, Metadata
from latchkey.webauthn.errors import (
    AttachmentNotAllowed,
    AttestationRequired,
    AuthenticatorCompromised,
    AuthenticatorNotAllowed,
    AuthenticatorNotCertified,
    UntrustedAttestation,
)
from latchkey.webauthn.policy import PasskeyPolicy

# Formats whose roots py_webauthn (and attestation.default_trust_anchors) always supply.
BUILT_IN_ROOTS = ("apple", "android-key", "android-safetynet")
# Key protection an MDS3 keyProtection list must name for each policy value (FIDO Registry §3.2).
_PROTECTION = {
    "hardware": {"hardware", "tee", "secure_element"},
    "secure_element": {"secure_element"},
}

NONE, SELF, ATTESTED, UNANCHORED = "none", "self", "attested", "unanchored"


@dataclass(frozen=True)
class AttestationRules:
    """What registration verification needs beyond the ceremony: the policy and metadata."""

    policy: PasskeyPolicy
    metadata: Metadata


def _pem(der: bytes) -> bytes:
    # Armour only (RFC 7468); the certificate is read when the chain is checked.
    return ssl.DER_cert_to_PEM_cert(der).encode()


def anchors(
    rules: AttestationRules | None,
    fmt: str,
    model: AuthenticatorModel | None,
    extra: Mapping[str, Sequence[bytes]] | None,
) -> dict[str, list[bytes]]:
    """PEM trust anchors for this statement's format: the server's (`extra`), and, where the
    tenant asks for attestation, the model's metadata roots and the tenant's own anchors."""
    found = {f: list(pems) for f, pems in (extra or {}).items()}
    if rules is None or rules.policy.attestation == "none":
        return found
    mine = found.setdefault(fmt, [])
    if model is not None:
        mine.extend(_pem(der) for der in model.root_certificates)
    mine.extend(rules.policy.anchors().get(fmt, []))
    return found


def trust_of(
    fmt: str, x5c: Sequence[bytes] | None, chained_to: Sequence[bytes], *, declared: bool
) -> str:
    """What the verified statement proves: nothing (none), only key possession (self), a chain
    to an anchor (attested), or a certificate no anchor vouches for (unanchored)."""
    if fmt == "none":
        return NONE
    if fmt == "packed" and not x5c:
        return SELF
    if declared or fmt in BUILT_IN_ROOTS or chained_to:
        return ATTESTED
    return UNANCHORED


def enforce(
    rules: AttestationRules,
    *,
    fmt: str,
    trust: str,
    aaguid: str,
    model: AuthenticatorModel | None,
) -> None:
    """The policy's verdict on a statement that verified; raises the refusal's error."""
    policy = rules.policy
    name = model.description if model is not None else f"authenticator {aaguid}"
    if policy.attestation != "none":
        if trust == NONE and policy.attested:
            raise AttestationRequired(
                f"this tenant requires a verified attestation ({policy.attestation}); the"
                " authenticator sent none"
            )
        if trust == SELF:
            raise UntrustedAttestation(
                "self attestation proves no authenticator model; this tenant requires"
                " attestation by a trusted certificate"
            )
        if trust == UNANCHORED:
            raise UntrustedAttestation(
                f"no trust anchor for {name} ({fmt}): it is not in the FIDO metadata and no"
                " operator anchor covers this format"
            )
    if model is not None and (status := model.compromised_status) is not None:
        raise AuthenticatorCompromised(
            f"{name} is reported {status} by the FIDO Metadata Service; use another authenticator"
        )
    if aaguid in policy.aaguid_deny:
        raise AuthenticatorNotAllowed(f"this tenant does not accept {name} (deny list)")
    if policy.aaguid_allow and aaguid not in policy.aaguid_allow:
        raise AuthenticatorNotAllowed(f"{name} is not on this tenant's list of allowed models")
    if policy.min_certification is not None:
        level = model.certification if model is not None else None
        wanted = CERTIFICATION_LEVELS.index(policy.min_certification)
        if level is None or CERTIFICATION_LEVELS.index(level) < wanted:
            raise AuthenticatorNotCertified(
                f"{name} is {'certified FIDO ' + level if level else 'not FIDO certified'};"
                f" this tenant requires FIDO {policy.min_certification} or higher"
            )
    if policy.key_protection is not None:
        held = set(model.key_protection) if model is not None else set()
        if not held & _PROTECTION[policy.key_protection]:
            raise AuthenticatorNotAllowed(
                f"{name} does not keep keys in {policy.key_protection.replace('_', ' ')}"
                " (FIDO metadata keyProtection); this tenant requires it"
            )
    wanted_attachment = policy.authenticator_attachment
    proven = model.attachment if model is not None and trust == ATTESTED else None
    if wanted_attachment and proven and proven != wanted_attachment:
        raise AttachmentNotAllowed(
            f"{name} is a {proven} authenticator; this tenant accepts only {wanted_attachment}"
        )
