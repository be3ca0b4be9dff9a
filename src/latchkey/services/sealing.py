"""Secrets at rest (signing keys), sealed with the master key: AES-256-GCM, a random 96-bit
nonce per seal, and what the secret belongs to as associated data, so a sealed value copied to
another row does not open."""

from __future__ import annotations

import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from latchkey.errors import ConfigError

_NONCE = 12


def _cipher(master_key: bytes | None) -> AESGCM:
    if not master_key:
        raise ConfigError("no master key: set LATCHKEY_MASTER_KEY (32 random bytes, base64url)")
    return AESGCM(master_key)


def seal(master_key: bytes | None, plaintext: bytes, *, context: str) -> bytes:
    nonce = os.urandom(_NONCE)
    return nonce + _cipher(master_key).encrypt(nonce, plaintext, context.encode())


def unseal(master_key: bytes | None, sealed: bytes, *, context: str) -> bytes:
    try:
        return _cipher(master_key).decrypt(sealed[:_NONCE], sealed[_NONCE:], context.encode())
    except InvalidTag as exc:
        raise ConfigError(
            "a sealed secret does not open with this master key (was LATCHKEY_MASTER_KEY changed?)"
        ) from exc


def derive(master_key: bytes | None, purpose: str) -> bytes:
    """A 256-bit key for one purpose (HMAC of recovery codes, bot-check challenges, ...), derived
    from the master key with HKDF so no purpose's key reveals another's or the master key."""
    if not master_key:
        raise ConfigError("no master key: set LATCHKEY_MASTER_KEY (32 random bytes, base64url)")
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose.encode()).derive(
        master_key
    )
