"""Identifiers and one-time secrets, all from the OS CSPRNG."""

from __future__ import annotations

import secrets
import string
import uuid


def new_id() -> str:
    return str(uuid.uuid4())


def new_token(nbytes: int = 32) -> str:
    """A URL-safe random token (unpadded base64url of `nbytes` random bytes)."""
    return secrets.token_urlsafe(nbytes)


def new_challenge() -> bytes:
    # §13.4.3: at least 16 random bytes; 32 leaves a wide margin.
    return secrets.token_bytes(32)


def new_user_handle() -> bytes:
    # §5.4.3: at most 64 bytes, random, carrying nothing about the user.
    return secrets.token_bytes(32)


_ALPHANUMERIC = string.ascii_letters + string.digits


def new_client_id() -> str:
    """An app's client_id: 24 letters and digits (about 143 bits). Never starting with '-', it
    is safe to pass to command lines and to put in URLs unescaped."""
    return "".join(secrets.choice(_ALPHANUMERIC) for _ in range(24))
