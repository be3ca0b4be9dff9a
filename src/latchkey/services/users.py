"""Users as the app backend sees them: created on first sight, read, updated, deleted."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection

from latchkey.errors import CredentialNotFound, InvalidRequest, UserNotFound
from latchkey.ids import new_id, new_user_handle
from latchkey.models import Credential, Tenant, User
from latchkey.runtime import Runtime
from latchkey.services import access, directories
from latchkey.store import credentials as credential_store
from latchkey.store import identifiers as identifier_store
from latchkey.store import users as user_store

# Profile fields the app may set, by their wire name; each bounded like its column.
PROFILE_FIELDS = {
    "username": ("username", 255),
    "displayName": ("display_name", 255),
    "email": ("email", 320),
    "phoneNumber": ("phone_number", 32),
}
_PHONE = re.compile(r"^\+?[0-9][0-9 ()-]{2,30}$")
# What the backend says it verified (the vendor's emailVerified / phoneNumberVerified), kept in
# the profile under these keys until the contact changes.
VERIFIED_FLAGS = {
    "emailVerified": ("email", "email_verified"),
    "phoneNumberVerified": ("phone_number", "phone_number_verified"),
}
# The app's own data on a user (the vendor's `custom`): flat, small, returned as stored.
CUSTOM = "custom"
MAX_CUSTOM_KEYS = 50
MAX_CUSTOM_VALUE = 1024


@dataclass(frozen=True)
class Profile:
    user: User
    enrolled: bool
    # Which of the user's e-mail and phone number their owner proved (a mailed code or link).
    verified: frozenset[str] = frozenset()


def profile_changes(attributes: Mapping[str, Any]) -> dict[str, str | None]:
    """The column changes named by wire attributes; a bad value is refused by name."""
    changes: dict[str, str | None] = {}
    for wire, (column, limit) in PROFILE_FIELDS.items():
        if wire not in attributes:
            continue
        value = attributes[wire]
        if value is not None and (not isinstance(value, str) or len(value) > limit):
            raise InvalidRequest(f"{wire} must be a string of at most {limit} characters")
        if column == "email" and value and "@" not in value:
            raise InvalidRequest("email must be an e-mail address")
        if column == "phone_number" and value and not _PHONE.match(value):
            raise InvalidRequest("phoneNumber must be a phone number such as +14155550100")
        changes[column] = value or None
    return changes


def check_custom(value: Any) -> dict[str, str | int | float | bool]:
    """`custom`: at most 50 keys of 1 to 64 characters, each a string (up to 1024), number or
    boolean, as the vendor's CustomData type allows."""
    bad = InvalidRequest(
        f"custom must be an object of at most {MAX_CUSTOM_KEYS} keys (1 to 64 characters) whose"
        f" values are strings of at most {MAX_CUSTOM_VALUE} characters, numbers or booleans"
    )
    if not isinstance(value, dict) or len(value) > MAX_CUSTOM_KEYS:
        raise bad
    for key, item in value.items():
        if not isinstance(key, str) or not 1 <= len(key) <= 64:
            raise bad
        if isinstance(item, str) and len(item) > MAX_CUSTOM_VALUE:
            raise bad
        if not isinstance(item, str | int | float | bool):
            raise bad
    return dict(value)


def profile_extras(user: User, attributes: Mapping[str, Any]) -> dict[str, Any] | None:
    """The user's new profile after the verified flags and `custom` given, or None when
    unchanged. A changed e-mail or phone number is not verified unless the call says so."""
    profile = dict(user.profile)
    changes = profile_changes(attributes)
    for wire, (column, key) in VERIFIED_FLAGS.items():
        if wire in attributes:
            flag = attributes[wire]
            if not isinstance(flag, bool):
                raise InvalidRequest(f"{wire} must be true or false")
            profile[key] = flag
        elif column in changes and changes[column] != getattr(user, column):
            profile.pop(key, None)
    if CUSTOM in attributes:
        profile[CUSTOM] = check_custom(attributes[CUSTOM]) if attributes[CUSTOM] else {}
    return profile if profile != user.profile else None


def verified(user: User) -> tuple[bool, bool]:
    """Whether the user's e-mail and phone number are verified, as far as Latchkey knows."""
    return (
        bool(user.email and user.profile.get("email_verified")),
        bool(user.phone_number and user.profile.get("phone_number_verified")),
    )


def ensure(
    conn: Connection, rt: Runtime, tenant: Tenant, external_id: str, attributes: Mapping[str, Any]
) -> User:
    """The tenant's user with this id, created on first sight (as tracking an action does)."""
    user = user_store.by_external_id(conn, tenant.id, external_id)
    if user is not None:
        return user
    changes = profile_changes(attributes)
    now = rt.now()
    user = User(
        id=new_id(),
        tenant_id=tenant.id,
        external_id=external_id,
        user_handle=new_user_handle(),
        username=changes.get("username") or changes.get("email"),
        display_name=changes.get("display_name"),
        email=changes.get("email"),
        phone_number=changes.get("phone_number"),
        created_at=now,
        updated_at=now,
        directory_id=directories.default_id(conn, tenant.id),
    )
    user_store.add(conn, user)
    return user


def _enrolled(conn: Connection, user: User) -> bool:
    return bool(credential_store.for_user(conn, user.tenant_id, user.id))


def _verified(conn: Connection, user: User) -> frozenset[str]:
    """The contact fields whose current value is a verified identifier of the user."""
    current = {"email": (user.email or "").casefold(), "phone_number": user.phone_number or ""}
    return frozenset(
        kind
        for kind, (value, proved) in identifier_store.with_verification(conn, user.id).items()
        if proved and current.get(kind) and value.casefold() == current[kind]
    )


def _profile(conn: Connection, user: User) -> Profile:
    return Profile(user, _enrolled(conn, user), _verified(conn, user))


def profile(rt: Runtime, tenant: Tenant, *, external_user_id: str) -> Profile | None:
    with rt.read() as conn:
        user = user_store.by_external_id(conn, tenant.id, external_user_id)
        return _profile(conn, user) if user else None


def update(
    rt: Runtime, tenant: Tenant, *, external_user_id: str, attributes: Mapping[str, Any]
) -> Profile:
    """Change the profile, creating the user if the app has not tracked them yet."""
    changes: dict[str, Any] = dict(profile_changes(attributes))
    with rt.transaction() as conn:
        user = ensure(conn, rt, tenant, external_user_id, attributes)
        extras = profile_extras(user, attributes)
        if extras is not None:
            changes["profile"] = extras
        if changes:
            user_store.update_profile(conn, user.id, {**changes, "updated_at": rt.now()})
            user = user_store.get(conn, tenant.id, user.id) or user
        return _profile(conn, user)


def delete(rt: Runtime, tenant: Tenant, *, external_user_id: str) -> None:
    with rt.transaction() as conn:
        user = user_store.by_external_id(conn, tenant.id, external_user_id)
        if user is None or not user_store.remove(conn, tenant.id, user.id):
            raise UserNotFound(f"no user {external_user_id!r}")


def credentials_of(
    rt: Runtime, tenant: Tenant, *, external_user_id: str
) -> list[Credential] | None:
    """The user's passkeys, or None when this tenant has no such user."""
    with rt.read() as conn:
        user = user_store.by_external_id(conn, tenant.id, external_user_id)
        if user is None:
            return None
        return credential_store.for_user(conn, tenant.id, user.id)


def delete_credential(
    rt: Runtime, tenant: Tenant, *, external_user_id: str, credential_row_id: str
) -> None:
    with rt.transaction() as conn:
        user = user_store.by_external_id(conn, tenant.id, external_user_id)
        if user is None:
            raise UserNotFound(f"no user {external_user_id!r}")
        # The sessions and refresh tokens the passkey's sign-ins opened end with it.
        if not access.remove_passkey(conn, tenant.id, user.id, credential_row_id, rt.now()):
            raise CredentialNotFound(f"user {external_user_id!r} has no authenticator with that id")


def known_credentials(rt: Runtime, tenant: Tenant, credential_ids: list[bytes]) -> list[Credential]:
    with rt.read() as conn:
        return credential_store.among(conn, tenant.id, credential_ids)


MAX_PAGE = 100


def query(
    rt: Runtime,
    tenant: Tenant,
    *,
    username: str | None = None,
    email: str | None = None,
    phone_number: str | None = None,
    user_id: str | None = None,
    limit: int = 20,
    after: str | None = None,
) -> tuple[list[tuple[User, frozenset[str]]], str | None]:
    """A page of the tenant's users matching the filters (each with its contact fields proved,
    as `_verified` says), and the last user id of the page when another may follow (the
    vendor's lastEvaluatedUserId)."""
    if not 1 <= limit <= MAX_PAGE:
        raise InvalidRequest(f"limit must be from 1 to {MAX_PAGE}")
    with rt.read() as conn:
        if user_id is not None:
            found = user_store.by_external_id(conn, tenant.id, user_id)
            if found is None or (after is not None and found.external_id <= after):
                return [], None
            return [(found, _verified(conn, found))], None
        page = user_store.query(
            conn,
            tenant.id,
            username=username,
            email=email,
            phone_number=phone_number,
            after=after,
            limit=limit,
        )
        listed = [(u, _verified(conn, u)) for u in page]
    return listed, page[-1].external_id if len(page) == limit else None
