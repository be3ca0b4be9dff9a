"""A software WebAuthn authenticator plus client: what a browser and a passkey provider return.

Spec-correct by default (authenticatorData §6.1, attestation objects §6.5, COSE keys §6.5.1.1,
clientDataJSON §5.8.1); every field can be overridden to craft hostile responses in tests.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import struct
from base64 import urlsafe_b64decode, urlsafe_b64encode
from dataclasses import dataclass, field
from types import EllipsisType
from typing import Any
from urllib.parse import urlsplit

import cbor2
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa

ES256, EDDSA, RS256 = -7, -8, -257
SUPPORTED = (ES256, EDDSA, RS256)
FLAG_UP, FLAG_UV, FLAG_BE, FLAG_BS, FLAG_AT = 0x01, 0x04, 0x08, 0x10, 0x40

PrivateKey = ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey | rsa.RSAPrivateKey


def b64url(data: bytes) -> str:
    return urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(value: str) -> bytes:
    return urlsafe_b64decode(value + "=" * (-len(value) % 4))


def _new_key(alg: int) -> PrivateKey:
    if alg == ES256:
        return ec.generate_private_key(ec.SECP256R1())
    if alg == EDDSA:
        return ed25519.Ed25519PrivateKey.generate()
    if alg == RS256:
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    raise ValueError(f"the software authenticator cannot make alg {alg} keys")


@dataclass
class SoftCredential:
    credential_id: bytes
    private_key: PrivateKey
    alg: int
    rp_id: str
    user_handle: bytes | None
    sign_count: int = 0

    def cose_public_key(self) -> bytes:
        public = self.private_key.public_key()
        if isinstance(public, ec.EllipticCurvePublicKey):
            numbers = public.public_numbers()
            return cbor2.dumps(
                {
                    1: 2,
                    3: ES256,
                    -1: 1,
                    -2: numbers.x.to_bytes(32, "big"),
                    -3: numbers.y.to_bytes(32, "big"),
                }
            )
        if isinstance(public, ed25519.Ed25519PublicKey):
            raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
            return cbor2.dumps({1: 1, 3: EDDSA, -1: 6, -2: raw})
        assert isinstance(public, rsa.RSAPublicKey)
        rsa_numbers = public.public_numbers()
        n = rsa_numbers.n.to_bytes((rsa_numbers.n.bit_length() + 7) // 8, "big")
        e = rsa_numbers.e.to_bytes((rsa_numbers.e.bit_length() + 7) // 8, "big")
        return cbor2.dumps({1: 3, 3: RS256, -1: n, -2: e})

    def spki(self) -> bytes:
        return self.private_key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    def sign(self, data: bytes) -> bytes:
        key = self.private_key
        if isinstance(key, ec.EllipticCurvePrivateKey):
            return key.sign(data, ec.ECDSA(hashes.SHA256()))
        if isinstance(key, ed25519.Ed25519PrivateKey):
            return key.sign(data)
        return key.sign(data, padding.PKCS1v15(), hashes.SHA256())


def _client_data(kind: str, challenge: str, origin: str) -> bytes:
    # Browsers serialize these keys first, in this order, without spaces (§5.8.1.1).
    return json.dumps(
        {"type": kind, "challenge": challenge, "origin": origin, "crossOrigin": False},
        separators=(",", ":"),
    ).encode()


def _flags(*, up: bool, uv: bool, be: bool, bs: bool, at: bool) -> int:
    return (
        (FLAG_UP if up else 0)
        | (FLAG_UV if uv else 0)
        | (FLAG_BE if be else 0)
        | (FLAG_BS if bs else 0)
        | (FLAG_AT if at else 0)
    )


@dataclass
class SoftAuthenticator:
    aaguid: bytes = bytes(16)
    attachment: str = "platform"
    transports: list[str] = field(default_factory=lambda: ["internal"])
    backup_eligible: bool = False
    backup_state: bool = False
    counter_step: int = 1  # 0: the count stays 0, as synced passkey providers do
    credentials: dict[bytes, SoftCredential] = field(default_factory=dict)
    # Basic attestation (§8.2): the model's batch key and certificate chain (leaf first), from
    # testing/attestation_ca.py; None: `packed` is self attestation.
    batch_key: ec.EllipticCurvePrivateKey | None = None
    batch_chain: list[bytes] = field(default_factory=list)

    def create(
        self,
        options: dict[str, Any],
        *,
        origin: str,
        alg: int | None = None,
        user_present: bool = True,
        user_verified: bool = True,
        backup_eligible: bool | None = None,
        backup_state: bool | None = None,
        rp_id: str | None = None,
        challenge: str | None = None,
        client_data_type: str = "webauthn.create",
        attestation: str = "none",
        credential_id: bytes | None = None,
        resident: bool = True,
    ) -> dict[str, Any]:
        """navigator.credentials.create() with these options, as PublicKeyCredential.toJSON()."""
        rp = options.get("rp", {}).get("id") or urlsplit(origin).hostname or ""
        for excluded in options.get("excludeCredentials", []):
            held = self.credentials.get(b64url_decode(excluded["id"]))
            if held is not None and held.rp_id == rp:
                raise ValueError(
                    "InvalidStateError: an excluded credential is on this authenticator"
                )
        chosen = alg if alg is not None else self._pick_alg(options)
        user = options.get("user", {})
        credential = SoftCredential(
            credential_id=credential_id or secrets.token_bytes(32),
            private_key=_new_key(chosen),
            alg=chosen,
            rp_id=rp,
            user_handle=b64url_decode(user["id"]) if "id" in user else None,
        )
        be = self.backup_eligible if backup_eligible is None else backup_eligible
        bs = self.backup_state if backup_state is None else backup_state
        flags = _flags(up=user_present, uv=user_verified, be=be, bs=bs, at=True)
        attested = (
            self.aaguid
            + struct.pack(">H", len(credential.credential_id))
            + credential.credential_id
            + credential.cose_public_key()
        )
        hashed_rp = rp_id or rp  # an override changes only the rpIdHash
        auth_data = hashlib.sha256(hashed_rp.encode()).digest() + bytes([flags])
        auth_data += struct.pack(">I", 0)
        auth_data += attested
        client_data = _client_data(client_data_type, challenge or options["challenge"], origin)
        statement = self._statement(attestation, credential, auth_data, client_data)
        attestation_object = cbor2.dumps(
            {"fmt": attestation, "attStmt": statement, "authData": auth_data}
        )
        self.credentials[credential.credential_id] = credential
        return {
            "id": b64url(credential.credential_id),
            "rawId": b64url(credential.credential_id),
            "type": "public-key",
            "authenticatorAttachment": self.attachment,
            "clientExtensionResults": {"credProps": {"rk": resident}},
            "response": {
                "clientDataJSON": b64url(client_data),
                "attestationObject": b64url(attestation_object),
                "authenticatorData": b64url(auth_data),
                "transports": list(self.transports),
                "publicKey": b64url(credential.spki()),
                "publicKeyAlgorithm": chosen,
            },
        }

    def get(
        self,
        options: dict[str, Any],
        *,
        origin: str,
        credential_id: bytes | None = None,
        user_present: bool = True,
        user_verified: bool = True,
        rp_id: str | None = None,
        challenge: str | None = None,
        client_data_type: str = "webauthn.get",
        sign_count: int | None = None,
        user_handle: bytes | EllipsisType | None = ...,
        backup_eligible: bool | None = None,
        backup_state: bool | None = None,
    ) -> dict[str, Any]:
        """navigator.credentials.get() with these options, as PublicKeyCredential.toJSON()."""
        rp = options.get("rpId") or urlsplit(origin).hostname or ""
        credential = self._choose(options, credential_id, rp)
        rp = rp_id or rp  # an override changes only what is hashed, not which key is used
        credential.sign_count = (
            sign_count if sign_count is not None else credential.sign_count + self.counter_step
        )
        be = self.backup_eligible if backup_eligible is None else backup_eligible
        bs = self.backup_state if backup_state is None else backup_state
        flags = _flags(up=user_present, uv=user_verified, be=be, bs=bs, at=False)
        auth_data = (
            hashlib.sha256(rp.encode()).digest()
            + bytes([flags])
            + struct.pack(">I", credential.sign_count)
        )
        client_data = _client_data(client_data_type, challenge or options["challenge"], origin)
        signature = credential.sign(auth_data + hashlib.sha256(client_data).digest())
        handle = credential.user_handle if user_handle is ... else user_handle
        response = {
            "clientDataJSON": b64url(client_data),
            "authenticatorData": b64url(auth_data),
            "signature": b64url(signature),
        }
        if handle is not None:
            response["userHandle"] = b64url(handle)
        return {
            "id": b64url(credential.credential_id),
            "rawId": b64url(credential.credential_id),
            "type": "public-key",
            "authenticatorAttachment": self.attachment,
            "clientExtensionResults": {},
            "response": response,
        }

    def _pick_alg(self, options: dict[str, Any]) -> int:
        for param in options.get("pubKeyCredParams", []):
            if param.get("alg") in SUPPORTED:
                return int(param["alg"])
        raise ValueError("NotSupportedError: no offered algorithm is supported")

    def _choose(
        self, options: dict[str, Any], credential_id: bytes | None, rp_id: str
    ) -> SoftCredential:
        if credential_id is not None:
            return self.credentials[credential_id]
        allowed = [b64url_decode(c["id"]) for c in options.get("allowCredentials", [])]
        if allowed:
            for cid in allowed:
                if cid in self.credentials:
                    return self.credentials[cid]
            raise LookupError("NotAllowedError: no allowed credential is on this authenticator")
        resident = [c for c in self.credentials.values() if c.rp_id == rp_id and c.user_handle]
        if not resident:
            raise LookupError("NotAllowedError: no discoverable credential for this RP")
        return resident[-1]

    def _statement(
        self, fmt: str, credential: SoftCredential, auth_data: bytes, client_data: bytes
    ) -> dict[str, Any]:
        if fmt == "none":
            return {}
        if fmt == "packed" and self.batch_key is not None:
            signed = auth_data + hashlib.sha256(client_data).digest()
            signature = self.batch_key.sign(signed, ec.ECDSA(hashes.SHA256()))
            return {"alg": ES256, "sig": signature, "x5c": list(self.batch_chain)}
        if fmt == "packed":
            # Self attestation (§8.2): signed with the credential's own key, no certificate.
            signed = auth_data + hashlib.sha256(client_data).digest()
            return {"alg": credential.alg, "sig": credential.sign(signed)}
        raise ValueError(f"unsupported attestation format {fmt!r}")
