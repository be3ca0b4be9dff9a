"""COSE public keys, parsed once per key and cached (py_webauthn would re-parse on every call)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from cryptography.hazmat.primitives.asymmetric.types import PublicKeyTypes
from webauthn.helpers import decode_credential_public_key, decoded_public_key_to_cryptography
from webauthn.helpers.cose import COSEAlgorithmIdentifier

from latchkey.webauthn.errors import MalformedResponse


@dataclass(frozen=True)
class PublicKey:
    key: PublicKeyTypes
    alg: COSEAlgorithmIdentifier


@lru_cache(maxsize=65536)
def load_public_key(cose_key: bytes) -> PublicKey:
    try:
        decoded = decode_credential_public_key(cose_key)
        return PublicKey(decoded_public_key_to_cryptography(decoded), decoded.alg)
    except Exception as exc:  # malformed COSE structures raise several library types
        raise MalformedResponse("credential public key cannot be used") from exc
