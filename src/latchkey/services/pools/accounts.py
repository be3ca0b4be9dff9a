"""The account page of an identity pool: the signed-in user's passkeys (provider, created,
last used), rename, delete (never the last one), add another, sign out. Every change is an
event."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from latchkey.errors import CredentialNotFound, Forbidden, InvalidRequest, Unauthorized
from latchkey.event_kinds import POOL_PASSKEY_REMOVED, POOL_PASSKEY_RENAMED
from latchkey.models import SsoSession, Tenant, User
from latchkey.runtime import RequestMeta, Runtime
from latchkey.services import access, events, sign_in_journey
from latchkey.services.pools import Pool, ceremonies, flows, sso
from latchkey.services.pools.ceremonies import Options
from latchkey.services.pools.flow_refs import FlowRef
from latchkey.store import credentials as credential_store
from latchkey.store import users as user_store
from latchkey.webauthn.aaguids import provider_name
from latchkey.webauthn.encoding import b64url


class NotSignedIn(Unauthorized):
    code = "not_signed_in"


class LastPasskey(Forbidden):
    code = "last_passkey"


@dataclass(frozen=True)
class Passkey:
    id: str
    credential_id: str
    name: str
    provider: str | None
    aaguid: str
    synced: bool
    created_at: datetime
    last_used_at: datetime | None


@dataclass(frozen=True)
class Account:
    user: User
    session: SsoSession
    passkeys: list[Passkey]


def signed_in_user(
    rt: Runtime, tenant: Tenant, pool: Pool, token: str | None
) -> tuple[SsoSession, User]:
    """The session's user, who must belong to this pool."""
    session = sso.current(rt, tenant.id, token)
    if session is None:
        raise NotSignedIn("sign in first")
    with rt.read() as conn:
        user = user_store.get(conn, tenant.id, session.user_id)
    if user is None or user.directory_id != pool.id:
        raise NotSignedIn("sign in to this pool first")
    return session, user


def account(rt: Runtime, tenant: Tenant, pool: Pool, token: str | None) -> Account:
    session, user = signed_in_user(rt, tenant, pool, token)
    with rt.read() as conn:
        found = credential_store.for_user(conn, tenant.id, user.id)
    passkeys = [
        Passkey(
            id=c.id,
            credential_id=b64url(c.credential_id),
            name=c.name,
            provider=provider_name(c.aaguid),
            aaguid=c.aaguid,
            synced=c.backup_eligible,
            created_at=c.created_at,
            last_used_at=c.last_used_at,
        )
        for c in sorted(found, key=lambda c: c.created_at)
    ]
    return Account(user, session, passkeys)


def rename(
    rt: Runtime,
    tenant: Tenant,
    pool: Pool,
    token: str | None,
    *,
    passkey_id: str,
    name: str,
    meta: RequestMeta,
) -> None:
    _, user = signed_in_user(rt, tenant, pool, token)
    name = name.strip() if isinstance(name, str) else ""
    if not 0 < len(name) <= 100:
        raise InvalidRequest("a passkey name is 1 to 100 characters")
    with rt.transaction() as conn:
        if not credential_store.rename(conn, tenant.id, user.id, passkey_id, name):
            raise CredentialNotFound("no such passkey on this account")
        events.record(
            conn,
            rt,
            tenant_id=tenant.id,
            kind=POOL_PASSKEY_RENAMED,
            meta=meta,
            user_id=user.id,
            credential_id=passkey_id,
            detail={"pool_id": pool.id},
        )


def remove(
    rt: Runtime,
    tenant: Tenant,
    pool: Pool,
    token: str | None,
    *,
    passkey_id: str,
    meta: RequestMeta,
) -> None:
    _, user = signed_in_user(rt, tenant, pool, token)
    with rt.transaction() as conn:
        # Two deletes at once must not both see a second passkey and leave none.
        user_store.lock(conn, tenant.id, user.id)
        owned = credential_store.for_user(conn, tenant.id, user.id)
        if passkey_id not in {c.id for c in owned}:
            raise CredentialNotFound("no such passkey on this account")
        if len(owned) <= 1:
            raise LastPasskey("this is the account's only passkey; add another first")
        events.record(
            conn,
            rt,
            tenant_id=tenant.id,
            kind=POOL_PASSKEY_REMOVED,
            meta=meta,
            user_id=user.id,
            detail={"pool_id": pool.id, "passkey_id": passkey_id},
        )
        # Whatever that passkey signed in (this browser included, if it did) ends with it.
        access.remove_passkey(conn, tenant.id, user.id, passkey_id, rt.now())


def add_passkey(
    rt: Runtime, tenant: Tenant, pool: Pool, token: str | None, *, offer: bool = False
) -> tuple[Options, str]:
    """Options for another passkey, in a new registration flow carrying the user; returns
    the options and the flow's cookie. `offer`: asked for by the passkey offer shown after a
    password sign-in (the funnel counts the offer accepted when the passkey is made)."""
    _, user = signed_in_user(rt, tenant, pool, token)
    with rt.transaction() as conn:
        started = flows.start(
            conn,
            rt,
            tenant_id=tenant.id,
            directory_id=pool.id,
            kind=flows.REGISTRATION,
            user_id=user.id,
            context=sign_in_journey.context(rt, method=None, since_load_ms=None, offer=offer),
        )
    ref = FlowRef(started.cookie, started.flow.id)
    return ceremonies.add_passkey_begin(rt, tenant, pool, user=user, ref=ref), started.cookie


def sign_out(rt: Runtime, tenant: Tenant, token: str | None) -> None:
    session = sso.current(rt, tenant.id, token)
    if session is not None:
        sso.close(rt, session)
