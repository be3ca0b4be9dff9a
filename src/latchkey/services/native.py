"""Native-app passkeys: signup and login challenges for an app, completed by the token grant.

The `auth_session` is the challenge's id. Its context binds it to the app (client_id), the
directory (realm) and the ceremony kind; the grant checks all three before issuing tokens.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection

from latchkey.errors import InvalidRequest
from latchkey.models import App, Challenge, Credential, Tenant, User
from latchkey.services import authentication, challenges, directories, registration, signup
from latchkey.services.runtime import RequestMeta, Runtime
from latchkey.store import challenges as challenge_store
from latchkey.webauthn.authentication_options import generate_authentication_options


@dataclass(frozen=True)
class NativeChallenge:
    auth_session: str
    options: dict[str, Any]


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
) -> NativeChallenge:
    with rt.transaction() as conn:
        directory = directories.resolve(conn, tenant.id, realm)
        # What the Auth0 SDKs send (email, phone_number, username, name, ...): the directory's
        # identifiers are checked, the other fields kept as profile claims.
        claimed, profile = signup.split_profile(directory, user_profile, keep_unused=True)
        if not claimed:
            raise InvalidRequest("user_profile needs at least one identifier of this directory")
        signup.refuse_taken(conn, directory, claimed)
        challenge = signup.new_user_challenge(
            conn,
            rt,
            tenant,
            directory,
            claimed,
            {**profile, "user_metadata": dict(user_metadata or {})},
            {"native": True, "client_id": app.client_id},
        )
    options = signup.creation_options(tenant, tenant.rp_name, challenge)
    return NativeChallenge(challenge.id, options)


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
    options = generate_authentication_options(
        rp_id=tenant.rp_id, challenge=challenge.challenge, policy=tenant.policy, allow=[]
    )
    return NativeChallenge(challenge.id, options)


class SessionMismatch(InvalidRequest):
    code = "auth_session_mismatch"


class UnknownSession(InvalidRequest):
    code = "auth_session_not_found"


def _session_kind(conn: Connection, tenant: Tenant, auth_session: str) -> str:
    """Whether an auth_session is a signup or a login, without using it up. Browser
    challenges are not auth_sessions."""
    if not isinstance(auth_session, str) or not 0 < len(auth_session) <= 64:
        raise UnknownSession("auth_session is missing or malformed")
    found = challenge_store.peek(conn, challenge_id=auth_session, tenant_id=tenant.id)
    if found is None or not found.context.get("native"):
        raise UnknownSession("unknown auth_session")
    return found.kind


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
) -> Completed:
    """Verify the platform's credential for this auth_session: store the new user and passkey
    on signup, check the assertion on login. The binding is checked in the storing
    transaction, so a mismatch writes nothing (the session is used up all the same)."""
    with rt.read() as conn:
        kind = _session_kind(conn, tenant, auth_session)
        directory_id = directories.resolve(conn, tenant.id, realm).id
    if kind == challenges.REGISTRATION:
        done = registration.finish(
            rt,
            tenant,
            challenge_id=auth_session,
            credential=authn_response,
            meta=meta,
            native=True,
            check=lambda _conn, challenge: _check_session(challenge, app, directory_id),
        )
        return Completed(done.user, done.credential, signup=True)
    signed_in = authentication.finish(
        rt,
        tenant,
        challenge_id=auth_session,
        credential=authn_response,
        meta=meta,
        native=True,
        after=lambda _conn, challenge, result: _check_login(
            challenge, app, directory_id, result.user
        ),
    )
    return Completed(signed_in.user, signed_in.credential, signup=False)
