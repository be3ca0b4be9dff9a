"""Sign-up into a directory: the profile a user gives, split into identifiers (unique in the
directory) and other fields; and finding a user by an identifier without revealing who exists.
Shared by the native-app challenges and the identity-pool pages."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection

from latchkey.errors import IdentifierTaken, InvalidRequest
from latchkey.ids import new_id, new_user_handle
from latchkey.models import Challenge, Directory, Tenant
from latchkey.runtime import Runtime
from latchkey.services import challenges, identifiers
from latchkey.services.passkey_options import PasskeyUser
from latchkey.store import identifiers as identifier_store

PROFILE_FIELDS = ("name", "given_name", "family_name", "nickname", "picture")
_LIMITS = {"picture": 2048}


def split_profile(
    directory: Directory, given: Mapping[str, Any], *, keep_unused: bool = False
) -> tuple[dict[str, str], dict[str, str]]:
    """Split a user_profile into normalized identifiers and the other profile fields, refusing
    unknown keys and missing required identifiers. With `keep_unused` (a mobile SDK's
    user_profile), an identifier kind the directory does not use is kept as a profile claim,
    as typed, instead of refused."""
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
    if stray and not keep_unused:
        raise InvalidRequest(f"this directory does not use: {', '.join(sorted(stray))}")
    profile: dict[str, str] = {}
    for name in (*PROFILE_FIELDS, *sorted(stray)):
        value = given.get(name)
        if value is None:
            continue
        if not isinstance(value, str) or len(value) > _LIMITS.get(name, 255):
            raise InvalidRequest(f"user_profile.{name} must be a string of sensible length")
        profile[name] = value
    return claimed, profile


def refuse_taken(conn: Connection, directory: Directory, claimed: Mapping[str, str]) -> None:
    for kind, value in claimed.items():
        if identifier_store.owner(conn, directory_id=directory.id, kind=kind, value=value):
            raise IdentifierTaken(f"a user with this {kind} already exists; sign in instead")


def identified_user(
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


def new_user_challenge(
    conn: Connection,
    rt: Runtime,
    tenant: Tenant,
    directory: Directory,
    claimed: Mapping[str, str],
    profile: Mapping[str, Any],
    binding: Mapping[str, Any],
) -> Challenge:
    """The registration challenge of a sign-up: the new user (created only at finish) lives in
    its context, with the surface's own `binding` (app, flow)."""
    # An e-mail or username names the passkey best; else the first identifier (a phone number).
    fallback = claimed.get("email") or claimed.get("username") or next(iter(claimed.values()))
    user = PasskeyUser.named(
        new_user_handle(), fallback=fallback, name=None, display_name=profile.get("name")
    )
    return challenges.issue(
        conn,
        rt,
        tenant=tenant,
        kind=challenges.REGISTRATION,
        user_id=None,
        context={
            **binding,
            "directory_id": directory.id,
            "external_user_id": new_id(),
            **user.context(),
            "identifiers": dict(claimed),
            "profile": dict(profile),
        },
    )


def sign_in_challenge(
    conn: Connection, rt: Runtime, tenant: Tenant, binding: Mapping[str, Any]
) -> Challenge:
    """A sign-in challenge for any discoverable passkey of the tenant (bound to no user): the
    options then name no credential, so they reveal nothing about who has an account."""
    return challenges.issue(
        conn,
        rt,
        tenant=tenant,
        kind=challenges.AUTHENTICATION,
        user_id=None,
        context=dict(binding),
    )
