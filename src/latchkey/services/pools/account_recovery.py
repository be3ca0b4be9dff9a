"""What a recovery does to the account it recovers (issue 21 item 1).

Proving the account's e-mail (the recovery code or link) takes over an account whose e-mail
nobody had proved: whoever signed up with the address may not own it (pre-hijacking), so their
passkeys, password, sessions and refresh tokens go before the address is marked verified. Then
the recovery's new passkey replaces the lost ones: every session and refresh token of the
account ends, and the other passkeys are revoked unless the pool keeps them.
"""

from __future__ import annotations

from sqlalchemy import Connection

from latchkey.event_kinds import POOL_ACCOUNT_TAKEN_OVER, POOL_PASSKEYS_REPLACED
from latchkey.runtime import RequestMeta, Runtime
from latchkey.services import access, events
from latchkey.services.pools import Pool
from latchkey.store import credentials as credential_store
from latchkey.store import identifiers as identifier_store
from latchkey.store import passwords as password_store


def _drop_passkeys(
    conn: Connection, rt: Runtime, tenant_id: str, user_id: str, keep: str | None = None
) -> list[str]:
    dropped = []
    for found in credential_store.for_user(conn, tenant_id, user_id):
        if found.id != keep and access.remove_passkey(conn, tenant_id, user_id, found.id, rt.now()):
            dropped.append(found.id)
    return dropped


def prove_email(
    conn: Connection, rt: Runtime, *, tenant_id: str, pool: Pool, user_id: str, meta: RequestMeta
) -> bool:
    """The recovery proved the account's e-mail. True when that took the account over from an
    unverified claimant (an event says what was dropped)."""
    claimed = identifier_store.with_verification(conn, user_id).get("email")
    if claimed is None or claimed[1]:
        return False
    now = rt.now()
    if not identifier_store.mark_verified(conn, user_id=user_id, kind="email", when=now):
        return False  # a concurrent proof got there first and did the same
    dropped = _drop_passkeys(conn, rt, tenant_id, user_id)
    password = password_store.remove(conn, user_id)
    access.end_for_user(conn, user_id, now)
    events.record(
        conn,
        rt,
        tenant_id=tenant_id,
        kind=POOL_ACCOUNT_TAKEN_OVER,
        meta=meta,
        user_id=user_id,
        detail={"pool_id": pool.id, "passkeys_removed": dropped, "password_removed": password},
    )
    return True


def replace_passkeys(
    conn: Connection,
    rt: Runtime,
    *,
    tenant_id: str,
    pool: Pool,
    user_id: str,
    new_passkey_id: str,
    meta: RequestMeta,
) -> None:
    """The recovery's new passkey is stored: end every session and refresh token of the
    account, and revoke its other passkeys unless the pool keeps them."""
    access.end_for_user(conn, user_id, rt.now())
    dropped = (
        []
        if pool.settings.recovery_keeps_passkeys
        else _drop_passkeys(conn, rt, tenant_id, user_id, keep=new_passkey_id)
    )
    events.record(
        conn,
        rt,
        tenant_id=tenant_id,
        kind=POOL_PASSKEYS_REPLACED,
        meta=meta,
        user_id=user_id,
        credential_id=new_passkey_id,
        detail={"pool_id": pool.id, "passkeys_removed": dropped},
    )
