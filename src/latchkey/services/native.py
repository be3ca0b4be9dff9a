"""Native-app passkeys: signup and login challenges for an app, completed by the token grant.

The `auth_session` is the challenge's id. Its context binds it to the app (client_id), the
directory (realm) and the ceremony kind; the grant checks all three before issuing tokens.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection

from latchkey.errors import IdentifierTaken, InvalidRequest
from latchkey.ids import new_id, new_user_handle
from latchkey.models import App, Challenge, Credential, Directory, Tenant, User
from latchkey.services import authentication, challenges, directories, identifiers, registration
from latchkey.services.runtime import RequestMeta, Runtime
from latchkey.store import challenges as challenge_store
from latchkey.store import credentials as credential_store
from latchkey.store import identifiers as identifier_store
from latchkey.webauthn.authentication_options import generate_authentication_options
from latchkey.webauthn.descriptors import CredentialRef
from latchkey.webauthn.encoding import b64url
from latchkey.webauthn.registration_options import generate_registration_options

PROFILE_FIELDS = ("name", "given_name", "family_name", "nickname", "picture")
_LIMITS = {"picture": 2048}


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


def _profile(
    directory: Directory, given: Mapping[str, Any]
) -> tuple[dict[str, str], dict[str, str]]:
    """Split a user_profile into normalized identifiers and the other profile fields, refusing
    unknown keys and missing required identifiers."""
    unknown = set(given) - set(identifiers.KINDS) - set(PROFILE_FIELDS)
    if unknown:
        raise InvalidRequest(f"user_profile has unknown fields: {', '.join(sorted(unknown))}")
    claimed: dict[str, str] = {}
    for kind, requirement in directory.identifiers.items():
        if given.get(kind) in (None, ""):
            if requirement == "required":
                raise InvalidRequest(f"user_profile.{kind} is required in this directory")
            continue
        claimed[kind] = identifiers.normalize(kind, given[kind])
    stray = {k for k in identifiers.KINDS if given.get(k)} - set(directory.identifiers)
    if stray:
        raise InvalidRequest(f"this directory does not use: {', '.join(sorted(stray))}")
    profile: dict[str, str] = {}
    for name in PROFILE_FIELDS:
        value = given.get(name)
        if value is None:
            continue
        if not isinstance(value, str) or len(value) > _LIMITS.get(name, 255):
            raise InvalidRequest(f"user_profile.{name} must be a string of sensible length")
        profile[name] = value
    return claimed, profile


def _refuse_taken(conn: Connection, directory: Directory, claimed: Mapping[str, str]) -> None:
    for kind, value in claimed.items():
        if identifier_store.owner(conn, directory_id=directory.id, kind=kind, value=value):
            raise IdentifierTaken(f"a user with this {kind} already exists; use the login flow")


def signup_challenge(
    rt: Runtime,
    tenant: Tenant,
    app: App,
    *,
    realm: str | None,
    user_profile: Mapping[str, Any],
    user_metadata: Mapping[str, Any] | None = None,
) -> NativeChallenge:
    handle = new_user_handle()
    with rt.transaction() as conn:
        directory = directories.resolve(conn, tenant.id, realm)
        claimed, profile = _profile(directory, user_profile)
        if not claimed:
            raise InvalidRequest("user_profile needs at least one identifier of this directory")
        _refuse_taken(conn, directory, claimed)
        name = claimed.get("email") or claimed.get("username") or next(iter(claimed.values()))
        shown = profile.get("name") or name
        challenge = challenges.issue(
            conn,
            rt,
            tenant=tenant,
            kind=challenges.REGISTRATION,
            user_id=None,
            context={
                "native": True,
                "client_id": app.client_id,
                "directory_id": directory.id,
                "external_user_id": new_id(),
                "user_handle": b64url(handle),
                "username": name,
                "display_name": shown,
                "identifiers": claimed,
                "profile": {**profile, "user_metadata": dict(user_metadata or {})},
            },
        )
    options = generate_registration_options(
        rp_id=tenant.rp_id,
        rp_name=tenant.rp_name,
        user_handle=handle,
        user_name=name,
        user_display_name=shown,
        challenge=challenge.challenge,
        policy=tenant.policy,
        exclude=[],
    )
    return NativeChallenge(challenge.id, options)


def login_challenge(
    rt: Runtime,
    tenant: Tenant,
    app: App,
    *,
    realm: str | None,
    identifier: Mapping[str, Any] | None = None,
) -> NativeChallenge:
    """Options for discoverable passkeys; an identifier (our extension) narrows
    allowCredentials to that user's passkeys."""
    with rt.transaction() as conn:
        directory = directories.resolve(conn, tenant.id, realm)
        allow: list[CredentialRef] = []
        user_id = None
        if identifier:
            user_id = _identified_user(conn, directory, identifier)
            found = credential_store.for_user(conn, tenant.id, user_id) if user_id else []
            allow = [CredentialRef(c.credential_id, c.transports) for c in found]
        challenge = challenges.issue(
            conn,
            rt,
            tenant=tenant,
            kind=challenges.AUTHENTICATION,
            user_id=user_id if allow else None,
            context={"native": True, "client_id": app.client_id, "directory_id": directory.id},
        )
    options = generate_authentication_options(
        rp_id=tenant.rp_id, challenge=challenge.challenge, policy=tenant.policy, allow=allow
    )
    return NativeChallenge(challenge.id, options)


def _identified_user(
    conn: Connection, directory: Directory, identifier: Mapping[str, Any]
) -> str | None:
    for kind, value in identifier.items():
        if kind in directory.identifiers:
            owner = identifier_store.owner(
                conn, directory_id=directory.id, kind=kind, value=identifiers.normalize(kind, value)
            )
            if owner:
                return owner
    # Unknown identifiers get discoverable options, so the answer does not reveal who exists.
    return None


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
            check=lambda _conn, challenge: _check_session(challenge, app, directory_id),
        )
        return Completed(done.user, done.credential, signup=True)
    signed_in = authentication.finish(
        rt,
        tenant,
        challenge_id=auth_session,
        credential=authn_response,
        meta=meta,
        after=lambda _conn, challenge, result: _check_login(
            challenge, app, directory_id, result.user
        ),
    )
    return Completed(signed_in.user, signed_in.credential, signup=False)
