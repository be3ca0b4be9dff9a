"""Passkey sign-in: begin (options + stored challenge) and finish (verify + record the use)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from concurrent.futures import Future
from contextlib import nullcontext
from dataclasses import dataclass, replace
from functools import partial
from typing import Any, cast

from sqlalchemy import Connection

from latchkey.errors import (
    CredentialNotFound,
    InvalidRequest,
    LatchkeyError,
    ServiceUnavailable,
    UserDisabled,
    UserNotFound,
)
from latchkey.event_kinds import PASSKEY_AUTHENTICATION
from latchkey.models import Challenge, Credential, Tenant, User
from latchkey.runtime import RequestMeta, Runtime, group_commit
from latchkey.runtime.group_commit import Expected
from latchkey.services import (
    app_origins,
    challenges,
    events,
    metadata,
    sealed_challenges,
)
from latchkey.services.passkey_options import request_options
from latchkey.store import credentials as credential_store
from latchkey.store import users as user_store
from latchkey.webauthn.authentication_verification import (
    VerifiedAuthentication,
    read_assertion_identity,
    verify_authentication_response,
)
from latchkey.webauthn.errors import CredentialMismatch, SignCountRegression


@dataclass(frozen=True)
class AuthenticationOptions:
    challenge_id: str
    options: dict[str, Any]


@dataclass(frozen=True)
class Authenticated:
    user: User
    credential: Credential
    user_verified: bool


def begin(
    rt: Runtime,
    tenant: Tenant,
    *,
    external_user_id: str | None = None,
    context: dict[str, Any] | None = None,
) -> AuthenticationOptions:
    """Options for a sign-in. With a user: their passkeys in allowCredentials. Without one:
    an empty list, so the browser offers discoverable passkeys (button or autofill). Nothing
    is written: the challenge is sealed into its id (services/sealed_challenges.py)."""
    if external_user_id is not None and not 0 < len(external_user_id) <= 255:
        raise InvalidRequest("userId must be 1 to 255 characters")
    allow: list[Credential] = []
    user_id = None
    if external_user_id is not None:
        with rt.read() as conn:
            user = user_store.by_external_id(conn, tenant.id, external_user_id)
            if user is None:
                raise UserNotFound("this user has no passkey")
            allow = credential_store.for_user(conn, tenant.id, user.id)
        if not allow:
            raise UserNotFound("this user has no passkey")
        user_id = user.id
    challenge = sealed_challenges.issue(
        rt, tenant=tenant, kind=challenges.AUTHENTICATION, user_id=user_id, context=context or {}
    )
    options = request_options(tenant.relying_party, challenge.challenge, allow=allow)
    return AuthenticationOptions(challenge.id, options)


After = Callable[[Connection, Challenge, Authenticated], None]


@dataclass(frozen=True)
class _Checked:
    """What verify learnt before writing: the opened challenge, the passkey and its owner, the
    verified assertion, or the failure that stopped it."""

    challenge: Challenge | None = None
    found: tuple[Credential, User] | None = None
    verified: VerifiedAuthentication | None = None
    failure: LatchkeyError | None = None


def finish(
    rt: Runtime,
    tenant: Tenant,
    *,
    challenge_id: str,
    credential: Mapping[str, Any],
    meta: RequestMeta,
    after: After | None = None,
    native: bool = False,
) -> Authenticated:
    """Verify the get() response against the stored passkey, then record the outcome in one
    transaction committed by the group writer: the challenge is used up whatever the outcome,
    and the use is recorded, with `after` (a surface's own records, such as a result token),
    only when everything verified. The answer comes after the commit. `native`: begun by an
    app (see registration.finish)."""
    future = start_finish(
        rt,
        tenant,
        challenge_id=challenge_id,
        credential=credential,
        meta=meta,
        after=after,
        native=native,
    )
    return finished(future.result())


def start_finish(
    rt: Runtime,
    tenant: Tenant,
    *,
    challenge_id: str,
    credential: Mapping[str, Any],
    meta: RequestMeta,
    after: After | None = None,
    native: bool = False,
    expected: Expected | None = None,
) -> Future[Any]:
    """`finish` up to the queued write: its future gives `finished` what to answer. Callers on
    an event loop await the future instead of blocking on it."""
    origins = app_origins.expected(rt, tenant, native=native)
    with rt.writer.expect() if expected is None else nullcontext(expected) as expecting:
        checked = _check(rt, tenant, challenge_id, credential, origins)
        job = partial(_record, rt=rt, tenant=tenant, checked=checked, meta=meta, after=after)
        return rt.submit(job, expecting)


def finished(outcome: Any) -> Authenticated:
    """The committed outcome of a finish: the sign-in, or its failure raised."""
    if isinstance(outcome, LatchkeyError):
        raise outcome
    return cast(Authenticated, outcome)


def _check(
    rt: Runtime,
    tenant: Tenant,
    challenge_id: str,
    credential: Mapping[str, Any],
    origins: tuple[str, ...],
) -> _Checked:
    challenge = None
    found = None
    try:
        challenge = challenges.open_for(
            rt, tenant=tenant, challenge_id=challenge_id, kind=challenges.AUTHENTICATION
        )
        found = _lookup(rt, tenant, challenge, credential)
        verified = _verify(rt, tenant, challenge, credential, found, origins)
        return _Checked(challenge, found, verified)
    except ServiceUnavailable:
        raise  # the database is away: nothing is known, nothing is recorded
    except LatchkeyError as error:
        return _Checked(challenge, found, failure=error)


def _lookup(
    rt: Runtime, tenant: Tenant, challenge: Challenge, credential: Mapping[str, Any]
) -> tuple[Credential, User]:
    identity = read_assertion_identity(credential)
    # Only this tenant's credentials are candidates: another tenant's id is simply unknown.
    # One indexed statement, without a transaction around it (Runtime.first).
    query = credential_store.with_owner_query(tenant.id, identity.credential_id)
    found = credential_store.with_owner_row(rt.first(*query))
    if found is None:
        raise CredentialNotFound("this passkey is not registered here")
    # §7.2 step 6: when the user was identified first, the passkey must be theirs.
    if challenge.user_id is not None and found[1].id != challenge.user_id:
        raise CredentialMismatch("this passkey belongs to another user")
    return found


def _verify(
    rt: Runtime,
    tenant: Tenant,
    challenge: Challenge,
    credential: Mapping[str, Any],
    found: tuple[Credential, User],
    origins: tuple[str, ...],
) -> VerifiedAuthentication:
    stored, owner = found
    if owner.disabled_at is not None:
        raise UserDisabled("this user is disabled")
    verified = verify_authentication_response(
        credential=credential,
        expected_challenge=challenge.challenge,
        rp_id=tenant.rp_id,
        origins=origins,
        public_key=stored.public_key,
        stored_sign_count=stored.sign_count,
        owner_user_handle=owner.user_handle,
        require_user_verification=tenant.policy.require_user_verification,
        # Discoverable sign-in: the user handle is the response's only claim of who it is.
        require_user_handle=challenge.user_id is None,
        stored_backup_eligible=stored.backup_eligible,
    )
    # Only the passkey's holder learns it is blocked: after the assertion verified.
    metadata.check_sign_in(rt, tenant, stored)
    return verified


def _record(
    conn: Connection,
    *,
    rt: Runtime,
    tenant: Tenant,
    checked: _Checked,
    meta: RequestMeta,
    after: After | None,
) -> Authenticated | LatchkeyError:
    """The writer's job: consume the challenge, then record the use or the failure. A failure
    is returned, not raised, so that the consumed challenge and the failure event commit."""
    stored, owner = checked.found or (None, None)
    try:
        if checked.challenge is not None:
            challenges.use(conn, rt, tenant=tenant, challenge=checked.challenge)
        if checked.failure is not None:
            raise checked.failure
        assert checked.challenge is not None
        assert checked.found is not None
        assert checked.verified is not None
        # A failure below undoes the use but not the consumed challenge.
        with group_commit.undoable(conn):
            return _record_use(
                conn, rt, tenant, checked.challenge, checked.found, checked.verified, meta, after
            )
    except LatchkeyError as error:
        if isinstance(error, SignCountRegression) and stored is not None:
            credential_store.mark_possible_clone(conn, stored.id)
        events.record(
            conn,
            rt,
            tenant_id=tenant.id,
            kind=PASSKEY_AUTHENTICATION,
            meta=meta,
            reason=error.code,
            user_id=owner.id if owner else None,
            credential_id=stored.id if stored else None,
            detail=_pool_of(checked.challenge),
        )
        return error


def _pool_of(challenge: Challenge | None) -> dict[str, Any] | None:
    # A pool's sign-in names its pool in the challenge: its failures count in the pool's funnel.
    pool_id = challenge.context.get("directory_id") if challenge is not None else None
    return {"pool_id": pool_id} if isinstance(pool_id, str) else None


def _record_use(
    conn: Connection,
    rt: Runtime,
    tenant: Tenant,
    challenge: Challenge,
    found: tuple[Credential, User],
    verified: VerifiedAuthentication,
    meta: RequestMeta,
    after: After | None,
) -> Authenticated:
    stored, owner = found
    now = rt.now()
    moved = credential_store.record_use(
        conn,
        credential_row_id=stored.id,
        old_count=stored.sign_count,
        new_count=verified.new_sign_count,
        backup_state=verified.backup_state,
        used_at=now,
    )
    if not moved:
        # Another sign-in moved the counter since we read it (or the passkey is gone): same
        # signal as step 22.
        raise SignCountRegression("the sign count was used concurrently by another sign-in")
    events.record(
        conn,
        rt,
        tenant_id=tenant.id,
        kind=PASSKEY_AUTHENTICATION,
        meta=meta,
        user_id=owner.id,
        credential_id=stored.id,
        detail={"user_verified": verified.user_verified},
    )
    used = replace(
        stored,
        sign_count=verified.new_sign_count,
        backup_state=verified.backup_state,
        last_used_at=now,
    )
    result = Authenticated(owner, used, verified.user_verified)
    if after is not None:
        after(conn, challenge, result)
    return result
