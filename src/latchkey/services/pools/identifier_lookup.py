"""Which account of a pool a typed identifier names: what kind of identifier a single value is
(e-mail, phone number, user name), the user it finds, and its form as a per-account key."""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection

from latchkey.errors import InvalidRequest
from latchkey.services import identifiers, signup
from latchkey.services.pools import Pool


def identifier_kind(pool: Pool, identifier: str) -> str:
    """Which of the pool's identifiers a single typed value is."""
    kinds = list(pool.directory.identifiers)
    if len(kinds) == 1:
        return kinds[0]
    if "@" in identifier and "email" in kinds:
        return "email"
    if identifier.startswith("+") and "phone_number" in kinds:
        return "phone_number"
    if "username" in kinds:
        return "username"
    return kinds[0]


def given_profile(
    pool: Pool, identifier: str | None, profile: Mapping[str, Any] | None
) -> dict[str, Any]:
    given = dict(profile or {})
    if identifier:
        given.setdefault(identifier_kind(pool, identifier), identifier)
    return given


def find_user(conn: Connection, pool: Pool, identifier: str) -> str | None:
    """The pool's user with this identifier, or None. A malformed identifier is unknown too:
    answers built on this must not differ either way."""
    try:
        kind = identifier_kind(pool, identifier)
        return signup.identified_user(conn, pool.directory, {kind: identifier})
    except InvalidRequest:
        return None


def identifier_key(pool: Pool, identifier: str) -> str:
    """An identifier as the lookup reads it (services/identifiers.py: NFKC / IDNA e-mail
    domains, E.164 numbers), for keys that count per account: every spelling of one account
    shares a count. A malformed one, which names no account, in its NFKC case-folded form."""
    kind = identifier_kind(pool, identifier)
    try:
        return f"{kind}:{identifiers.normalize(kind, identifier)}"
    except InvalidRequest:
        return f"raw:{unicodedata.normalize('NFKC', identifier.strip()).casefold()}"
