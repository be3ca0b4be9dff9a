"""COSE public keys, parsed once per key and cached (py_webauthn would re-parse on every call)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from cryptography.hazmat.primitives.asymmetric.types import PublicKeyTypes
from webauthn.helpers import decode_credential_public_key, decoded_public_key_to_cryptography
from webauthn.helpers.cose import COSECRV, COSEKTY, COSEAlgorithmIdentifier

from latchkey.webauthn.errors import MalformedResponse

_A = COSEAlgorithmIdentifier
# WebAuthn L3 §5.8.5: an algorithm fixes the key type and, for EC2 and OKP, the curve (ES256 on
# P-256, ES512 on P-521, EdDSA on Ed25519). py_webauthn reads the curve from crv and only the
# hash from alg, so a key that breaks this rule must be refused here.
_KEY_SHAPES: dict[int, tuple[int, int | None]] = {
    _A.ECDSA_SHA_256: (COSEKTY.EC2, COSECRV.P256),
    _A.ECDSA_SHA_512: (COSEKTY.EC2, COSECRV.P521),
    _A.EDDSA: (COSEKTY.OKP, COSECRV.ED25519),
    **{
        alg: (COSEKTY.RSA, None)
        for alg in (
            _A.RSASSA_PKCS1_v1_5_SHA_256,
            _A.RSASSA_PKCS1_v1_5_SHA_384,
            _A.RSASSA_PKCS1_v1_5_SHA_512,
            _A.RSASSA_PKCS1_v1_5_SHA_1,
            _A.RSASSA_PSS_SHA_256,
            _A.RSASSA_PSS_SHA_384,
            _A.RSASSA_PSS_SHA_512,
        )
    },
    **{alg: (COSEKTY.ML_DSA, None) for alg in (_A.ML_DSA_44, _A.ML_DSA_65, _A.ML_DSA_87)},
}


@dataclass(frozen=True)
class PublicKey:
    key: PublicKeyTypes
    alg: COSEAlgorithmIdentifier


@lru_cache(maxsize=65536)
def load_public_key(cose_key: bytes) -> PublicKey:
    try:
        decoded = decode_credential_public_key(cose_key)
        key = decoded_public_key_to_cryptography(decoded)
    except Exception as exc:  # malformed COSE structures raise several library types
        raise MalformedResponse("credential public key cannot be used") from exc
    alg, kty, crv = decoded.alg, decoded.kty, getattr(decoded, "crv", None)
    if not (_is_int(alg) and _is_int(kty) and (crv is None or _is_int(crv))):
        raise MalformedResponse("credential public key: kty, alg and crv must be integers")
    if _KEY_SHAPES.get(alg) != (kty, crv):
        raise MalformedResponse(
            f"credential public key: algorithm {_label(alg)} does not fit key type {_label(kty)}"
            + ("" if crv is None else f" on curve {_label(crv)}")
            + " (WebAuthn §5.8.5)"
        )
    return PublicKey(key, COSEAlgorithmIdentifier(alg))


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _label(value: int) -> str:
    # A CBOR integer can have thousands of digits; a message names only plausible ones.
    return str(int(value)) if -(2**32) < value < 2**32 else "(out of range)"
