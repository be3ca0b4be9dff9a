"""Passwords, for pools of teams migrating users off them: argon2id (argon2-cffi), and a
sign-in that completes the login flow like a passkey does, after which the hosted page offers
a passkey. Unknown users cost the same hashing time as known ones, and both fail alike."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from latchkey.errors import Forbidden, InvalidRequest, Unauthorized, UserNotFound
from latchkey.event_kinds import POOL_PASSWORD_SIGN_IN
from latchkey.models import Tenant
from latchkey.runtime import RequestMeta, Runtime
from latchkey.runtime.ratelimit import Rule
from latchkey.services import amr, events, sign_in_journey
from latchkey.services.pools import (
    Pool,
    email_verification,
    flow_refs,
    flows,
    identifier_lookup,
    sso,
)
from latchkey.services.pools.ceremonies import SignedIn
from latchkey.services.pools.flow_refs import FlowRef
from latchkey.store import passwords as password_store
from latchkey.store import users as user_store

# Failed guesses per account, whatever IP they come from.
ACCOUNT_RULE = Rule(10, 900)
_hasher = PasswordHasher()  # argon2id with the library's (RFC 9106) defaults
# Verified against when the account is unknown, so that answer takes as long as a wrong one:
# the hash of "latchkey: no such account" with the hasher's parameters (test_abuse_limits checks
# they are still the hasher's), written out: hashing it at import cost every process 0.1-0.2 s.
_DUMMY = (
    "$argon2id$v=19$m=65536,t=3,p=4$ntK06ziK0N3JZ5hFSWXaeQ"
    "$kvWhSxtJAMwrO3OBRKbdVGz/yuDqS6WvkBb1eq/d+js"
)


class PasswordsDisabled(Forbidden):
    code = "password_disabled"


class InvalidCredentials(Unauthorized):
    code = "invalid_credentials"


def _check_length(password: str) -> None:
    if not isinstance(password, str) or not 8 <= len(password) <= 256:
        raise InvalidRequest("a password is 8 to 256 characters")


def set_password(rt: Runtime, tenant: Tenant, pool: Pool, user_id: str, password: str) -> None:
    if not pool.settings.password:
        raise PasswordsDisabled("this pool does not use passwords")
    _check_length(password)
    hashed = _hasher.hash(password)
    with rt.transaction() as conn:
        user = user_store.get(conn, tenant.id, user_id)
        if user is None or user.directory_id != pool.id:
            raise UserNotFound("no such user in this pool")
        password_store.put(conn, user_id, hashed, rt.now())


def _matches(hashed: str | None, password: str) -> bool:
    try:
        return _hasher.verify(hashed or _DUMMY, password) and hashed is not None
    except (VerificationError, InvalidHashError):
        return False


def sign_in(
    rt: Runtime,
    tenant: Tenant,
    pool: Pool,
    *,
    identifier: str,
    password: str,
    ref: FlowRef | None,
    meta: RequestMeta,
    since_load_ms: int | None = None,
) -> SignedIn:
    if not pool.settings.password:
        raise PasswordsDisabled("this pool does not use passwords")
    account = identifier_lookup.identifier_key(pool, identifier)
    rt.limiter.limit(
        "pool-password",
        ip=meta.ip,
        tenant_id=tenant.id,
        account=f"{pool.id}:{account}",
        per_account=ACCOUNT_RULE,
    )
    with rt.read() as conn:
        user_id = identifier_lookup.find_user(conn, pool, identifier)
        hashed = password_store.hash_of(conn, user_id) if user_id else None
        user = user_store.get(conn, tenant.id, user_id) if user_id else None
    if user is None or not _matches(hashed, password or ""):
        events.record_failure(
            rt,
            tenant_id=tenant.id,
            kind=POOL_PASSWORD_SIGN_IN,
            meta=meta,
            reason=InvalidCredentials.code,
            user_id=user.id if user else None,
            detail={"pool_id": pool.id},
        )
        raise InvalidCredentials("the identifier or the password is not right")
    with rt.transaction() as conn:
        email_verification.require_proved(conn, pool, user.id)
        flow, _ = flow_refs.flow_for(conn, rt, tenant, pool, flows.LOGIN, ref)
        completed = flows.advance(
            conn,
            rt,
            flow,
            from_states=(flows.ACTIVE, flows.AWAITING_CREDENTIAL),
            to_state=flows.COMPLETED,
            user_id=user.id,
        )
        opened = sso.open_session(
            conn,
            rt,
            tenant_id=tenant.id,
            user_id=user.id,
            amr=amr.of_password(),
            credential_id=None,
        )
        if hashed and _hasher.check_needs_rehash(hashed):
            password_store.put(conn, user.id, _hasher.hash(password), rt.now())
        events.record(
            conn,
            rt,
            tenant_id=tenant.id,
            kind=POOL_PASSWORD_SIGN_IN,
            meta=meta,
            user_id=user.id,
            detail={"pool_id": pool.id, **_journey(rt, since_load_ms)},
        )
    return SignedIn(completed, user, None, opened, signup=False)


def _journey(rt: Runtime, since_load_ms: int | None) -> dict[str, object]:
    """The funnel's fields: a password sign-in, so many milliseconds after its page loaded."""
    method = sign_in_journey.PASSWORD
    made = sign_in_journey.context(rt, method=method, since_load_ms=since_load_ms)
    return sign_in_journey.detail(rt, made)
