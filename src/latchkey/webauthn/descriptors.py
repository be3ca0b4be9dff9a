"""Credential descriptors shared by both ceremonies' options (WebAuthn §5.8.3)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from webauthn.helpers.structs import AuthenticatorTransport, PublicKeyCredentialDescriptor

_KNOWN_TRANSPORTS = {t.value for t in AuthenticatorTransport}


@dataclass(frozen=True)
class CredentialRef:
    """A stored credential as the options name it: its id and the transports it reported."""

    credential_id: bytes
    transports: Sequence[str] = ()


def to_descriptors(refs: Iterable[CredentialRef]) -> list[PublicKeyCredentialDescriptor]:
    # Unknown transport hints are dropped: §5.8.4 tells clients to ignore them anyway.
    return [
        PublicKeyCredentialDescriptor(
            id=ref.credential_id,
            transports=[AuthenticatorTransport(t) for t in ref.transports if t in _KNOWN_TRANSPORTS]
            or None,
        )
        for ref in refs
    ]
