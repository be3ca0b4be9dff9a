"""Ceremony challenges: bound to a scope (a tenant, or the portal), kind and (when known) user;
used once; short-lived. Stored (a tenant's), or sealed into their ids
(services/sealed_challenges.py)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import Connection

from latchkey.errors import ChallengeExpired, ChallengeNotFound, ChallengeUsed
from latchkey.ids import new_challenge, new_token
from latchkey.models import Challenge, Tenant
from latchkey.runtime import Runtime
from latchkey.services import sealed_challenges
from latchkey.store import challenges as challenge_store

REGISTRATION = "registration"
AUTHENTICATION = "authentication"


def issue(
    conn: Connection,
    rt: Runtime,
    *,
    tenant: Tenant,
    kind: str,
    user_id: str | None,
    context: dict[str, Any],
) -> Challenge:
    now = rt.now()
    challenge = Challenge(
        id=new_token(24),
        tenant_id=tenant.id,
        kind=kind,
        user_id=user_id,
        challenge=new_challenge(),
        context=context,
        created_at=now,
        expires_at=now + timedelta(milliseconds=tenant.policy.timeout_ms),
        consumed_at=None,
    )
    challenge_store.add(conn, challenge)
    return challenge


def consume(rt: Runtime, *, scope: str, challenge_id: str, kind: str) -> Challenge:
    """Use a challenge up (stored or sealed), or say why it cannot be used. Its own
    transaction: a failed verification afterwards must not give the challenge back."""
    if isinstance(challenge_id, str) and sealed_challenges.is_sealed(challenge_id):
        opened = sealed_challenges.open_sealed(
            rt, scope=scope, challenge_id=challenge_id, kind=kind
        )
        with rt.transaction() as conn:
            sealed_challenges.consume(conn, opened)
        return opened
    with rt.transaction() as conn:
        return consume_in(conn, rt, scope=scope, challenge_id=challenge_id, kind=kind)


def consume_in(
    conn: Connection, rt: Runtime, *, scope: str, challenge_id: str, kind: str
) -> Challenge:
    """`consume` inside the caller's transaction, which must commit even when what follows
    fails (so the challenge is never given back)."""
    if not isinstance(challenge_id, str) or not 0 < len(challenge_id) <= 64:
        raise ChallengeNotFound("unknown challenge")
    now = rt.now()
    # One statement on the way that succeeds; a challenge of another kind is left untouched
    # (it is not this ceremony's to burn).
    used = challenge_store.consume(
        conn, challenge_id=challenge_id, tenant_id=scope, now=now, kind=kind
    )
    if used is not None:
        return used
    # Only on failure: read the row to say why.
    found = challenge_store.peek(conn, challenge_id=challenge_id, tenant_id=scope)
    if found is None or found.kind != kind:
        raise ChallengeNotFound(f"unknown {kind} challenge")
    if found.consumed_at is not None or found.expires_at > now:
        raise ChallengeUsed("this challenge was already used")
    raise ChallengeExpired("this challenge has expired; request new options")


def open_for(rt: Runtime, *, scope: str, challenge_id: str, kind: str) -> Challenge:
    """The challenge behind an id, checked but not used up (sealed ids open without a read;
    stored ones, a tenant's, are read): `use` consumes it later, in the verify's transaction.
    `scope`: the tenant's id, or the portal's scope (which has no stored challenges)."""
    if isinstance(challenge_id, str) and sealed_challenges.is_sealed(challenge_id):
        return sealed_challenges.open_sealed(rt, scope=scope, challenge_id=challenge_id, kind=kind)
    if not isinstance(challenge_id, str) or not 0 < len(challenge_id) <= 64:
        raise ChallengeNotFound("unknown challenge")
    with rt.read() as conn:
        found = challenge_store.peek(conn, challenge_id=challenge_id, tenant_id=scope)
    if found is None or found.kind != kind:
        raise ChallengeNotFound(f"unknown {kind} challenge")
    if found.consumed_at is not None:
        raise ChallengeUsed("this challenge was already used")
    if found.expires_at <= rt.now():
        raise ChallengeExpired("this challenge has expired; request new options")
    return found


def use(conn: Connection, rt: Runtime, *, challenge: Challenge) -> None:
    """Consume an opened challenge in the caller's transaction: of concurrent uses, one wins."""
    if sealed_challenges.is_sealed(challenge.id):
        sealed_challenges.consume(conn, challenge)
    else:
        consume_in(
            conn, rt, scope=challenge.tenant_id, challenge_id=challenge.id, kind=challenge.kind
        )
