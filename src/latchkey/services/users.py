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
from latchkey.services import access, directories
from latchkey.services.runtime import Runtime
from latchkey.store import credentials as credential_store
from latchkey.store import users as user_store

# Profile fields the app may set, by their wire name; each bounded like its column.
PROFILE_FIELDS = {
    "username": ("username", 255),
    "displayName": ("display_name", 255),
    "email": ("email", 320),
    "phoneNumber": ("phone_number", 32),
}
_PHONE = re.compile(r"^\+?[0-9][0-9 ()-]{2,30}$")


@dataclass(frozen=True)
class Profile:
    user: User
    enrolled: bool


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


def profile(rt: Runtime, tenant: Tenant, *, external_user_id: str) -> Profile | None:
    with rt.read() as conn:
        user = user_store.by_external_id(conn, tenant.id, external_user_id)
        return Profile(user, _enrolled(conn, user)) if user else None


def update(
    rt: Runtime, tenant: Tenant, *, external_user_id: str, attributes: Mapping[str, Any]
) -> Profile:
    """Change the profile, creating the user if the app has not tracked them yet."""
    changes = profile_changes(attributes)
    with rt.transaction() as conn:
        user = ensure(conn, rt, tenant, external_user_id, attributes)
        if changes:
            user_store.update_profile(conn, user.id, {**changes, "updated_at": rt.now()})
            user = user_store.get(conn, tenant.id, user.id) or user
        return Profile(user, _enrolled(conn, user))


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
