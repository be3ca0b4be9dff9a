"""COSE public keys, parsed once per key and cached (py_webauthn would re-parse on every call),
with their signature check made ready once too (`PublicKey.verify`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache, partial
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ec import EllipticCurvePublicKey
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.mldsa import (
    MLDSA44PublicKey,
    MLDSA65PublicKey,
    MLDSA87PublicKey,
)
from cryptography.hazmat.primitives.asymmetric.padding import MGF1, PSS, PKCS1v15
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
from cryptography.hazmat.primitives.asymmetric.types import PublicKeyTypes
from webauthn.helpers import (
    decode_credential_public_key,
    decoded_public_key_to_cryptography,
    verify_signature,
)
from webauthn.helpers.algorithms import (
    get_ec2_sig_alg,
    get_rsa_pkcs1_sig_alg,
    get_rsa_pss_sig_alg,
    is_rsa_pkcs,
    is_rsa_pss,
)
from webauthn.helpers.cose import COSECRV, COSEKTY, COSEAlgorithmIdentifier
from webauthn.helpers.exceptions import WebAuthnException

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


_SIGN_DATA_KEYS = (Ed25519PublicKey, MLDSA44PublicKey, MLDSA65PublicKey, MLDSA87PublicKey)
# Checks a signature over data; raises cryptography's InvalidSignature when it does not verify.
Verify = Callable[[bytes, bytes], None]


@dataclass(frozen=True)
class PublicKey:
    key: PublicKeyTypes
    alg: COSEAlgorithmIdentifier
    verify: Verify


def _verifier(key: PublicKeyTypes, alg: COSEAlgorithmIdentifier) -> Verify:
    """py_webauthn's `verify_signature` for this key and algorithm, its choice of padding and
    hash made once per key instead of on every call (the same library helpers choose them). A
    pair it would refuse (UnsupportedAlgorithm, UnsupportedPublicKey) keeps its own path, so
    the refusal comes at verify time as before."""
    try:
        if isinstance(key, EllipticCurvePublicKey):
            return partial(_verify_ec2, key, get_ec2_sig_alg(alg))
        if isinstance(key, RSAPublicKey) and is_rsa_pkcs(alg):
            return partial(_verify_rsa, key, PKCS1v15(), get_rsa_pkcs1_sig_alg(alg))
        if isinstance(key, RSAPublicKey) and is_rsa_pss(alg):
            hashing = get_rsa_pss_sig_alg(alg)
            padding = PSS(mgf=MGF1(hashing), salt_length=PSS.MAX_LENGTH)
            return partial(_verify_rsa, key, padding, hashing)
        if isinstance(key, _SIGN_DATA_KEYS):  # EdDSA, ML-DSA: the key fixes the algorithm
            return key.verify
    except WebAuthnException:
        pass
    return partial(_verify_any, key, alg)


def _verify_ec2(key: EllipticCurvePublicKey, alg: Any, signature: bytes, data: bytes) -> None:
    key.verify(signature, data, alg)


def _verify_rsa(
    key: RSAPublicKey, padding: Any, hashing: Any, signature: bytes, data: bytes
) -> None:
    key.verify(signature, data, padding, hashing)


def _verify_any(
    key: PublicKeyTypes, alg: COSEAlgorithmIdentifier, signature: bytes, data: bytes
) -> None:
    verify_signature(public_key=key, signature_alg=alg, signature=signature, data=data)


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
    algorithm = COSEAlgorithmIdentifier(alg)
    return PublicKey(key, algorithm, _verifier(key, algorithm))


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _label(value: int) -> str:
    # A CBOR integer can have thousands of digits; a message names only plausible ones.
    return str(int(value)) if -(2**32) < value < 2**32 else "(out of range)"
