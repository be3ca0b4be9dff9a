"""authenticatorData: parse it and check the RP ID hash and flags (§6.1, §7.1 steps 13-17)."""

from __future__ import annotations

import hashlib
import hmac
import struct
from functools import lru_cache

from webauthn.helpers import parse_authenticator_data
from webauthn.helpers.structs import AuthenticatorData, AuthenticatorDataFlags

from latchkey.webauthn.errors import (
    InvalidBackupFlags,
    MalformedResponse,
    RpIdMismatch,
    UserPresenceRequired,
    UserVerificationRequired,
)

# §6.1: rpIdHash (32 bytes), flags (1), signCount (4, big-endian); then, only when the AT or ED
# flag says so, attested credential data and extensions (CBOR, left to py_webauthn).
_HEADER = struct.Struct(">32sBI")
_AT_OR_ED = 0x40 | 0x80


def parse_auth_data(raw: bytes) -> AuthenticatorData:
    if type(raw) is bytes and len(raw) == _HEADER.size and not raw[32] & _AT_OR_ED:
        return _header_only(raw)
    try:
        return parse_authenticator_data(raw)
    except Exception as exc:  # the parser raises several types for truncated or odd input
        raise MalformedResponse("authenticatorData cannot be parsed") from exc


def _header_only(raw: bytes) -> AuthenticatorData:
    """What py_webauthn's parser makes of authenticator data that is its fixed header alone
    (an assertion's, without extensions): the same fields, without its slicing steps."""
    rp_id_hash, flags, sign_count = _HEADER.unpack(raw)
    return AuthenticatorData(
        rp_id_hash=rp_id_hash,
        flags=AuthenticatorDataFlags(
            up=bool(flags & 0x01),
            uv=bool(flags & 0x04),
            be=bool(flags & 0x08),
            bs=bool(flags & 0x10),
            at=False,
            ed=False,
        ),
        sign_count=sign_count,
    )


@lru_cache(maxsize=4096)
def rp_id_hash(rp_id: str) -> bytes:
    return hashlib.sha256(rp_id.encode("utf-8")).digest()


def check_auth_data(
    auth_data: AuthenticatorData,
    *,
    rp_id: str,
    require_user_presence: bool,
    require_user_verification: bool,
) -> None:
    # §7.1 step 13 / §7.2 step 15.
    if not hmac.compare_digest(auth_data.rp_id_hash, rp_id_hash(rp_id)):
        raise RpIdMismatch(f'rpIdHash is not the SHA-256 of the RP ID "{rp_id}"')
    # §7.1 step 14 / §7.2 step 16 (a conditional create may leave UP clear, §7.1 step 14 note).
    if require_user_presence and not auth_data.flags.up:
        raise UserPresenceRequired("the authenticator did not report user presence (UP)")
    # §7.1 step 15 / §7.2 step 17.
    if require_user_verification and not auth_data.flags.uv:
        raise UserVerificationRequired(
            "the policy requires user verification and the UV flag is clear"
        )
    # §7.1 step 16 / §7.2 step 18 (§6.1.3): backed up (BS) without backup eligible (BE) is invalid.
    if auth_data.flags.bs and not auth_data.flags.be:
        raise InvalidBackupFlags("BS (backed up) is set while BE (backup eligible) is clear")
