"""Native-app passkeys: signup and login challenges for an app, completed by the token grant.

The `auth_session` is the challenge's id. Its context binds it to the app (client_id), the
directory (realm) and the ceremony kind; the grant checks all three before issuing tokens. A
pool (directory) that requires a verified e-mail address gets it proved by a mailed code before
the account is stored, and refuses sign-ins to accounts whose address is unproved
(services/native_verification.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection

from latchkey.errors import InvalidRequest
from latchkey.models import App, Challenge, Credential, Tenant, User
from latchkey.runtime import RequestMeta, Runtime
from latchkey.services import (
    app_origins,
    ceremony,
    challenges,
    directories,
    native_verification,
    pools,
    signup,
    tenant_passkeys,
)
from latchkey.services.passkey_options import PasskeyUser, creation_options, request_options
from latchkey.services.pools import email_verification
from latchkey.store import challenges as challenge_store


@dataclass(frozen=True)
class NativeChallenge:
    auth_session: str
    options: dict[str, Any]
    # The identifiers whose mailed code the grant needs (Auth0's `verification_required`).
    verification_required: tuple[str, ...] = ()


@dataclass(frozen=True)
class Completed:
    """A finished native ceremony: who, with which passkey, and whether it was a signup."""

    user: User
    credential: Credential
    signup: bool


def signup_challenge(
    rt: Runtime,
    tenant: Tenant,
    app: App,
    *,
    realm: str | None,
    user_profile: Mapping[str, Any],
    user_metadata: Mapping[str, Any] | None = None,
    sender: str = "",
) -> NativeChallenge:
    """`sender`: the default From address of the verification mail (a pool's own wins)."""
    with rt.transaction() as conn:
        directory = directories.resolve(conn, tenant.id, realm)
        # What the Auth0 SDKs send (email, phone_number, username, name, ...): the directory's
        # identifiers are checked, the other fields kept as profile claims.
        claimed, profile = signup.split_profile(directory, user_profile, keep_unused=True)
        if not claimed:
            raise InvalidRequest("user_profile needs at least one identifier of this directory")
        signup.refuse_taken(conn, directory, claimed)
        binding: dict[str, Any] = {"native": True, "client_id": app.client_id}
        pool = pools.Pool(directory, pools.settings_of(directory))
        email = claimed.get(native_verification.EMAIL)
        verifying = native_verification.start(conn, rt, tenant, pool, email=email, sender=sender)
        if verifying is not None:
            binding["verification_flow"] = verifying
        challenge = signup.new_user_challenge(
            conn,
            rt,
            tenant,
            directory,
            claimed,
            {**profile, "user_metadata": dict(user_metadata or {})},
            binding,
        )
    options = creation_options(
        tenant.relying_party, PasskeyUser.of_context(challenge.context), challenge.challenge
    )
    required = (native_verification.EMAIL,) if verifying is not None else ()
    return NativeChallenge(challenge.id, options, required)


def login_challenge(
    rt: Runtime,
    tenant: Tenant,
    app: App,
    *,
    realm: str | None,
    identifier: Mapping[str, Any] | None = None,
) -> NativeChallenge:
    """Options for discoverable passkeys. An identifier (our extension) is accepted but narrows
    nothing: allowCredentials would tell anyone who asks whether the account exists and which
    credential ids it holds (issue 21 item 7), so every answer has the same shape."""
    del identifier
    with rt.transaction() as conn:
        directory = directories.resolve(conn, tenant.id, realm)
        binding = {"native": True, "client_id": app.client_id, "directory_id": directory.id}
        challenge = signup.sign_in_challenge(conn, rt, tenant, binding)
    options = request_options(tenant.relying_party, challenge.challenge)
    return NativeChallenge(challenge.id, options)


class SessionMismatch(InvalidRequest):
    code = "auth_session_mismatch"


class UnknownSession(InvalidRequest):
    code = "auth_session_not_found"


def _peek_session(conn: Connection, tenant: Tenant, auth_session: str) -> Challenge:
    """An auth_session's challenge (a signup or a login), without using it up. Browser
    challenges are not auth_sessions."""
    if not isinstance(auth_session, str) or not 0 < len(auth_session) <= 64:
        raise UnknownSession("auth_session is missing or malformed")
    found = challenge_store.peek(conn, challenge_id=auth_session, tenant_id=tenant.id)
    if found is None or not found.context.get("native"):
        raise UnknownSession("unknown auth_session")
    return found


def _check_session(challenge: Challenge, app: App, directory_id: str) -> None:
    context = challenge.context
    if context.get("client_id") != app.client_id or context.get("directory_id") != directory_id:
        raise SessionMismatch("this auth_session belongs to another app or realm")


def _check_login(challenge: Challenge, app: App, directory_id: str, user: User) -> None:
    _check_session(challenge, app, directory_id)
    if user.directory_id != directory_id:
        raise SessionMismatch("this passkey's user is in another realm")


def complete(
    rt: Runtime,
    tenant: Tenant,
    app: App,
    *,
    realm: str | None,
    auth_session: str,
    authn_response: Mapping[str, Any],
    meta: RequestMeta,
    verification: Any = None,
) -> Completed:
    """Verify the platform's credential for this auth_session: store the new user and passkey
    on signup, check the assertion on login. The binding is checked in the storing
    transaction, so a mismatch writes nothing (the session is used up all the same).
    `verification`: the mailed codes by identifier, when the signup challenge asked for them;
    a missing or wrong code uses nothing up, so the app may ask the user again."""
    with rt.read() as conn:
        found = _peek_session(conn, tenant, auth_session)
        directory = directories.resolve(conn, tenant.id, realm)
    if found.kind == challenges.REGISTRATION:
        return _sign_up(rt, tenant, app, directory.id, found, authn_response, meta, verification)
    pool = pools.Pool(directory, pools.settings_of(directory))

    def check_login(conn: Connection, challenge: Challenge, result: tenant_passkeys.SignIn) -> None:
        _check_login(challenge, app, directory.id, result.user)
        email_verification.require_proved(conn, pool, result.user.id)

    signed_in: tenant_passkeys.SignIn = ceremony.finish_sign_in(
        rt,
        app_origins.relying_party(rt, tenant, native=True),
        tenant_passkeys.TenantKeyring(tenant),
        challenge_id=auth_session,
        credential=authn_response,
        meta=meta,
        then=check_login,
    )
    return Completed(signed_in.user, signed_in.credential, signup=False)


def _sign_up(
    rt: Runtime,
    tenant: Tenant,
    app: App,
    directory_id: str,
    found: Challenge,
    authn_response: Mapping[str, Any],
    meta: RequestMeta,
    verification: Any,
) -> Completed:
    proof = None
    flow_id = found.context.get("verification_flow")
    if flow_id is not None:
        # Before a guess is counted: another app or realm cannot spend this session's guesses.
        _check_session(found, app, directory_id)
        proof = native_verification.check(
            rt,
            tenant,
            directory_id,
            flow_id=flow_id,
            auth_session=found.id,
            verification=verification,
        )

    def check(conn: Connection, challenge: Challenge) -> None:
        _check_session(challenge, app, directory_id)
        if proof is not None:
            native_verification.use(conn, rt, proof)

    def prove(
        conn: Connection, _challenge: Challenge, result: tenant_passkeys.Registration
    ) -> None:
        if proof is not None:
            native_verification.proved(conn, rt, tenant, proof, user_id=result.user.id, meta=meta)

    done: tenant_passkeys.Registration = ceremony.finish_registration(
        rt,
        app_origins.relying_party(rt, tenant, native=True),
        tenant_passkeys.TenantKeyring(tenant),
        challenge_id=found.id,
        credential=authn_response,
        meta=meta,
        check=check,
        then=prove,
    )
    return Completed(done.user, done.credential, signup=True)
