"""Sign-in challenges that write nothing when issued: the challenge travels inside its id.

A sealed challenge id is AES-256-GCM (a key derived from the master key, chosen by a key-id
byte so keys can rotate) over the challenge's 32 random bytes, its expiry, the user it was
issued for (when known) and its context (the action), with its scope (the tenant, or the
operator portal) and the ceremony kind as associated data: any process or node opens it without
a database read, and an id of another scope or kind, or a changed byte, does not open at all.
Single use is enforced at verify, by inserting the id's key into `used_challenges` in the
verify's transaction (a duplicate is a replay); the key begins with the expiry, so expired keys
go by one range delete.
"""

from __future__ import annotations

import binascii
import os
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import Connection

from latchkey.errors import ChallengeExpired, ChallengeNotFound, ChallengeUsed, ConfigError
from latchkey.ids import CHALLENGE_BYTES
from latchkey.models import Challenge
from latchkey.runtime import Runtime
from latchkey.services.sealing import derive
from latchkey.store import used_challenges

PREFIX = "c1."  # stored challenge ids are base64url and never hold a dot
MAX_LENGTH = 512
_KEY_ID = 1
_NONCE = 12


class _Sealed(msgspec.Struct, array_like=True):
    expires_ms: int
    challenge: bytes
    user_id: str | None
    context: dict[str, Any]


_encode = msgspec.msgpack.Encoder().encode
_decode = msgspec.msgpack.Decoder(_Sealed).decode


def _cipher(rt: Runtime, key_id: int) -> AESGCM:
    # Derived once per runtime and kept on it, like every key made from the master key.
    def derived() -> AESGCM:
        assert rt.master_key is not None  # checked by the callers
        return AESGCM(derive(rt.master_key, f"latchkey challenge ids {key_id}"))

    cipher: AESGCM = rt.cache("challenge-ciphers", float("inf"), max_entries=4).get(key_id, derived)
    return cipher


def _associated(kind: str, scope: str) -> bytes:
    return f"{kind}\0{scope}".encode()


def is_sealed(challenge_id: str) -> bool:
    return challenge_id.startswith(PREFIX)


def issue(
    rt: Runtime,
    *,
    scope: str,
    timeout_ms: int,
    kind: str,
    user_id: str | None,
    context: dict[str, Any],
) -> Challenge:
    """A fresh challenge and its sealed id, opening only in `scope` (a tenant's id, or the
    portal's); nothing is stored."""
    now = rt.now()
    challenge_id, sealed = _seal(rt, now, scope, timeout_ms, kind, user_id, context)
    return _challenge(challenge_id, scope, kind, sealed, now)


def issue_id(
    rt: Runtime,
    *,
    scope: str,
    timeout_ms: int,
    kind: str,
    user_id: str | None,
    context: dict[str, Any],
) -> tuple[str, bytes]:
    """`issue`'s sealed id and challenge alone, all that options show (no `Challenge` made)."""
    challenge_id, sealed = _seal(rt, rt.now(), scope, timeout_ms, kind, user_id, context)
    return challenge_id, sealed.challenge


def _seal(
    rt: Runtime,
    now: datetime,
    scope: str,
    timeout_ms: int,
    kind: str,
    user_id: str | None,
    context: dict[str, Any],
) -> tuple[str, _Sealed]:
    if not rt.master_key:
        raise ConfigError("no master key: set LATCHKEY_MASTER_KEY to seal challenge ids")
    expires = now + timedelta(milliseconds=timeout_ms)
    # The challenge (§13.4.3) and the nonce from one draw of the system's CSPRNG: one system
    # call per options instead of two.
    drawn = os.urandom(CHALLENGE_BYTES + _NONCE)
    sealed = _Sealed(_millis(expires), drawn[:CHALLENGE_BYTES], user_id, context)
    nonce = drawn[CHALLENGE_BYTES:]
    box = _cipher(rt, _KEY_ID).encrypt(nonce, _encode(sealed), _associated(kind, scope))
    return PREFIX + _b64url(bytes([_KEY_ID]) + nonce + box), sealed


def open_sealed(rt: Runtime, *, scope: str, challenge_id: str, kind: str) -> Challenge:
    """The challenge inside a sealed id of this scope and kind, unexpired; not yet used up
    (that is `consume`'s job, in the verify's transaction)."""
    sealed = _unseal(rt, scope, challenge_id, kind)
    now = rt.now()
    if sealed.expires_ms <= _millis(now):
        raise ChallengeExpired("this challenge has expired; request new options")
    return _challenge(challenge_id, scope, kind, sealed, now)


def _unseal(rt: Runtime, scope: str, challenge_id: str, kind: str) -> _Sealed:
    if not rt.master_key or not is_sealed(challenge_id) or len(challenge_id) > MAX_LENGTH:
        raise _unknown(kind)
    try:
        raw = _b64url_decode(challenge_id[len(PREFIX) :])
    except (binascii.Error, ValueError) as exc:
        raise _unknown(kind) from exc
    if len(raw) < 1 + _NONCE + 16 or raw[0] != _KEY_ID:
        raise _unknown(kind)
    try:
        plain = _cipher(rt, raw[0]).decrypt(
            raw[1 : 1 + _NONCE], raw[1 + _NONCE :], _associated(kind, scope)
        )
        return _decode(plain)
    except (InvalidTag, msgspec.DecodeError) as exc:
        raise _unknown(kind) from exc


def _unknown(kind: str) -> ChallengeNotFound:
    return ChallengeNotFound(f"unknown {kind} challenge")


# base64url as base64's urlsafe functions do it (binascii's lenient decode of the translated
# text), without their Python-level steps: every sign-in seals one id and opens one.
_TO_URLSAFE = bytes.maketrans(b"+/", b"-_")
_FROM_URLSAFE = bytes.maketrans(b"-_", b"+/")


def _b64url(data: bytes) -> str:
    return binascii.b2a_base64(data, newline=False).translate(_TO_URLSAFE).rstrip(b"=").decode()


def _b64url_decode(text: str) -> bytes:
    padded = (text + "=" * (-len(text) % 4)).encode("ascii")
    return binascii.a2b_base64(padded.translate(_FROM_URLSAFE))


def used_key(challenge: Challenge) -> str:
    """The primary key that marks this challenge used: its expiry first (time-ordered), then
    the GCM nonce, unique per sealed id."""
    # Only the base64 that holds the key id and the nonce (the id opened, so it is there).
    raw = _b64url_decode(challenge.id[len(PREFIX) : len(PREFIX) + _HEAD_TEXT])
    return f"{_millis(challenge.expires_at):012x}{raw[1 : 1 + _NONCE].hex()}"


_HEAD_TEXT = -(-(1 + _NONCE) // 3) * 4  # base64 characters of the key id and the nonce


def consume(conn: Connection, challenge: Challenge) -> None:
    """Use the challenge up in the caller's transaction; a second use is a replay."""
    if not used_challenges.add(conn, used_key(challenge)):
        raise ChallengeUsed("this challenge was already used")


def was_used(conn: Connection, challenge: Challenge) -> bool:
    return used_challenges.exists(conn, used_key(challenge))


def key_before(moment: datetime) -> str:
    """Used keys below this one are of challenges that expired before `moment` (they no
    longer open anyway): services/pruning.py deletes them by this range."""
    return f"{_millis(moment):012x}"


def _millis(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def _challenge(
    challenge_id: str, scope: str, kind: str, sealed: _Sealed, now: datetime
) -> Challenge:
    return Challenge(
        id=challenge_id,
        tenant_id=scope,
        kind=kind,
        user_id=sealed.user_id,
        challenge=sealed.challenge,
        context=sealed.context,
        created_at=now,
        expires_at=datetime.fromtimestamp(sealed.expires_ms / 1000, UTC),
        consumed_at=None,
    )
