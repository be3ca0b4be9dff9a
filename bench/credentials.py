"""The load generator's passkeys: what SoftAuthenticator.get() makes, with the per-credential
parts computed once, so each ceremony costs one SHA-256 and one ECDSA signature over the
fresh challenge on the generator's core."""

from __future__ import annotations

import hashlib
import struct
from base64 import urlsafe_b64encode
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

from latchkey.testing.authenticator import (
    FLAG_BE,
    FLAG_BS,
    FLAG_UP,
    FLAG_UV,
    SoftAuthenticator,
    SoftCredential,
)

_ECDSA = ec.ECDSA(hashes.SHA256())


def b64url(data: bytes) -> str:
    return urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def synced_authenticator(*, counter_step: int = 0) -> SoftAuthenticator:
    """A passkey provider that syncs (backup eligible and backed up); by default it sends a
    zero signature counter, as the synced providers do, so sign-ins never race on it."""
    return SoftAuthenticator(backup_eligible=True, backup_state=True, counter_step=counter_step)


@dataclass
class BenchCredential:
    """One passkey held by the generator, for one user of one relying party."""

    credential_id: bytes
    private_key: ec.EllipticCurvePrivateKey
    user_handle: bytes
    username: str
    rp_id: str
    origin: str
    counter_step: int = 0
    sign_count: int = 0
    backed_up: bool = True
    _id: str = field(init=False, repr=False)
    _handle: str = field(init=False, repr=False)
    _rp_hash_flags: bytes = field(init=False, repr=False)
    _auth_data: bytes = field(init=False, repr=False)
    _auth_data_b64: str = field(init=False, repr=False)
    _client_head: bytes = field(init=False, repr=False)
    _client_tail: bytes = field(init=False, repr=False)

    def __post_init__(self) -> None:
        flags = FLAG_UP | FLAG_UV | ((FLAG_BE | FLAG_BS) if self.backed_up else 0)
        self._id = b64url(self.credential_id)
        self._handle = b64url(self.user_handle)
        self._rp_hash_flags = hashlib.sha256(self.rp_id.encode()).digest() + bytes([flags])
        self._set_auth_data()
        # clientDataJSON exactly as SoftAuthenticator (and browsers) lay it out (§5.8.1.1).
        self._client_head = b'{"type":"webauthn.get","challenge":"'
        self._client_tail = f'","origin":"{self.origin}","crossOrigin":false}}'.encode()

    def _set_auth_data(self) -> None:
        self._auth_data = self._rp_hash_flags + struct.pack(">I", self.sign_count)
        self._auth_data_b64 = b64url(self._auth_data)

    @classmethod
    def from_soft(cls, soft: SoftCredential, *, username: str, origin: str) -> BenchCredential:
        if not isinstance(soft.private_key, ec.EllipticCurvePrivateKey) or soft.user_handle is None:
            raise ValueError("the bench signs with discoverable ES256 passkeys only")
        return cls(
            credential_id=soft.credential_id,
            private_key=soft.private_key,
            user_handle=soft.user_handle,
            username=username,
            rp_id=soft.rp_id,
            origin=origin,
            sign_count=soft.sign_count,
        )

    def assertion(self, challenge: str) -> dict[str, Any]:
        """navigator.credentials.get() over this challenge, as PublicKeyCredential.toJSON()."""
        if self.counter_step:
            self.sign_count += self.counter_step
            self._set_auth_data()
        client_data = self._client_head + challenge.encode() + self._client_tail
        signed = self._auth_data + hashlib.sha256(client_data).digest()
        signature = self.private_key.sign(signed, _ECDSA)
        return {
            "id": self._id,
            "rawId": self._id,
            "type": "public-key",
            "authenticatorAttachment": "platform",
            "clientExtensionResults": {},
            "response": {
                "clientDataJSON": b64url(client_data),
                "authenticatorData": self._auth_data_b64,
                "signature": b64url(signature),
                "userHandle": self._handle,
            },
        }
