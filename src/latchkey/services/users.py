"""Reading users and their passkeys."""

from __future__ import annotations

from latchkey.models import Credential, Tenant
from latchkey.services.runtime import Runtime
from latchkey.store import credentials as credential_store
from latchkey.store import users as user_store


def credentials_of(
    rt: Runtime, tenant: Tenant, *, external_user_id: str
) -> list[Credential] | None:
    """The user's passkeys, or None when this tenant has no such user."""
    with rt.transaction() as conn:
        user = user_store.by_external_id(conn, tenant.id, external_user_id)
        if user is None:
            return None
        return credential_store.for_user(conn, tenant.id, user.id)
