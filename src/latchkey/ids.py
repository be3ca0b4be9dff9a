"""Identifiers and one-time secrets, all from the OS CSPRNG."""

from __future__ import annotations

import os
import secrets
import string
import time
import uuid


def new_id() -> str:
    return str(uuid.uuid4())


def new_ordered_id() -> str:
    """A UUIDv7 (RFC 9562 §5.7): the Unix time in milliseconds, then 74 random bits. For rows
    written on every sign-in (events, actions): new keys land beside each other at the end of
    their indexes instead of on a random page each, so a commit writes fewer pages. Not for
    anything that must not tell when it was made."""
    # Written as text straight from the 16 bytes' hex (no UUID object, no 128-bit integer:
    # half the cost): the version nibble replaced by 7, the variant's two bits by 0b10.
    digits = ((time.time_ns() // 1_000_000).to_bytes(6, "big") + os.urandom(10)).hex()
    return (
        f"{digits[:8]}-{digits[8:12]}-7{digits[13:16]}-"
        f"{_VARIANT[digits[16]]}{digits[17:20]}-{digits[20:]}"
    )


# A hex digit with its top two bits set to the RFC 9562 variant (0b10), its low two kept.
_VARIANT = {digit: "89ab"[int(digit, 16) & 0b11] for digit in "0123456789abcdef"}


def new_token(nbytes: int = 32) -> str:
    """A URL-safe random token (unpadded base64url of `nbytes` random bytes)."""
    return secrets.token_urlsafe(nbytes)


# §13.4.3: at least 16 random bytes; 32 leaves a wide margin.
CHALLENGE_BYTES = 32


def new_challenge() -> bytes:
    return secrets.token_bytes(CHALLENGE_BYTES)


def new_user_handle() -> bytes:
    # §5.4.3: at most 64 bytes, random, carrying nothing about the user.
    return secrets.token_bytes(32)


_ALPHANUMERIC = string.ascii_letters + string.digits


def new_client_id() -> str:
    """An app's client_id: 24 letters and digits (about 143 bits). Never starting with '-', it
    is safe to pass to command lines and to put in URLs unescaped."""
    return "".join(secrets.choice(_ALPHANUMERIC) for _ in range(24))
