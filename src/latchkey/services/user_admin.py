"""Users and their passkeys as an operator sees them: find, view, disable, delete; rename and
revoke passkeys. Always within one tenant, by Latchkey's own user id."""

from __future__ import annotations

from dataclasses import dataclass

from latchkey.errors import CredentialNotFound, InvalidRequest, UserNotFound
from latchkey.models import Credential, User
from latchkey.runtime import Runtime
from latchkey.services import access
from latchkey.store import credentials as credential_store
from latchkey.store import identifiers as identifier_store
from latchkey.store import users as user_store

MAX_RESULTS = 100


@dataclass(frozen=True)
class UserView:
    user: User
    identifiers: dict[str, str]
    passkeys: list[Credential]


def search(rt: Runtime, tenant_id: str, needle: str | None, *, limit: int = 50) -> list[User]:
    """Users by id, app user id, e-mail, username, phone or identifier; none: the newest."""
    if not 1 <= limit <= MAX_RESULTS:
        raise InvalidRequest(f"limit must be 1 to {MAX_RESULTS}")
    needle = (needle or "").strip()
    if len(needle) > 320:
        raise InvalidRequest("q is at most 320 characters")
    with rt.read() as conn:
        return user_store.search(conn, tenant_id, needle or None, limit=limit)


def _user(rt: Runtime, tenant_id: str, user_id: str) -> User:
    with rt.read() as conn:
        found = user_store.get(conn, tenant_id, user_id)
    if found is None:
        raise UserNotFound(f"no user {user_id!r}")
    return found


def view(rt: Runtime, tenant_id: str, user_id: str) -> UserView:
    user = _user(rt, tenant_id, user_id)
    with rt.read() as conn:
        return UserView(
            user,
            identifier_store.of_user(conn, user.id),
            credential_store.for_user(conn, tenant_id, user.id),
        )


def set_disabled(rt: Runtime, tenant_id: str, user_id: str, disabled: bool) -> User:
    """Disable (or enable again). A disabled user's passkeys and password no longer sign them
    in, and their sessions and refresh tokens are revoked now, so nothing already issued keeps
    them signed in."""
    now = rt.now()
    with rt.transaction() as conn:
        found = user_store.get(conn, tenant_id, user_id)
        if found is None:
            raise UserNotFound(f"no user {user_id!r}")
        when = (found.disabled_at or now) if disabled else None
        user_store.set_disabled(conn, tenant_id, user_id, disabled_at=when, now=now)
        if disabled:
            access.end_for_user(conn, user_id, now)
        changed = user_store.get(conn, tenant_id, user_id)
    assert changed is not None
    return changed


def delete(rt: Runtime, tenant_id: str, user_id: str) -> User:
    """Delete the user with their passkeys, sessions and tokens; their events stay, unnamed."""
    with rt.transaction() as conn:
        found = user_store.get(conn, tenant_id, user_id)
        if found is None or not user_store.remove(conn, tenant_id, user_id):
            raise UserNotFound(f"no user {user_id!r}")
    return found


def passkey(rt: Runtime, tenant_id: str, user_id: str, passkey_id: str) -> Credential:
    for found in view(rt, tenant_id, user_id).passkeys:
        if found.id == passkey_id:
            return found
    raise CredentialNotFound(f"user {user_id!r} has no passkey {passkey_id!r}")


def rename_passkey(
    rt: Runtime, tenant_id: str, user_id: str, passkey_id: str, name: str
) -> Credential:
    name = name.strip() if isinstance(name, str) else ""
    if not 0 < len(name) <= 100:
        raise InvalidRequest("a passkey name is 1 to 100 characters")
    with rt.transaction() as conn:
        if not credential_store.rename(conn, tenant_id, user_id, passkey_id, name):
            raise CredentialNotFound(f"user {user_id!r} has no passkey {passkey_id!r}")
    return passkey(rt, tenant_id, user_id, passkey_id)


def revoke_passkey(rt: Runtime, tenant_id: str, user_id: str, passkey_id: str) -> Credential:
    """Delete the passkey: its next sign-in is refused as an unknown credential, and the
    sessions and refresh tokens its sign-ins opened end now."""
    found = passkey(rt, tenant_id, user_id, passkey_id)
    with rt.transaction() as conn:
        if not access.remove_passkey(conn, tenant_id, user_id, passkey_id, rt.now()):
            raise CredentialNotFound(f"user {user_id!r} has no passkey {passkey_id!r}")
    return found
