"""/admin/v1/tenants/{tenantId}/users: find (by Latchkey id, app user id, e-mail, username,
phone), view, disable or enable, delete; a user's passkeys: list, rename, revoke."""

from __future__ import annotations

from typing import Annotated

from litestar import delete, get, patch, post
from litestar.params import FromPath, JSONBody, QueryParameter

from latchkey.api.admin import schemas
from latchkey.api.admin.auth import tenant_of, who
from latchkey.api.context import AnyRequest, runtime
from latchkey.services import operator_changes, user_admin, views
from latchkey.services.views import CredentialOut

USER = "/tenants/{tenant_id:str}/users/{user_id:str}"
PASSKEY = USER + "/passkeys/{passkey_id:str}"


@get("/tenants/{tenant_id:str}/users", sync_to_thread=True)
def search_users(
    tenant_id: FromPath[str],
    request: AnyRequest,
    q: Annotated[str | None, QueryParameter(max_length=320)] = None,
    limit: Annotated[int, QueryParameter(ge=1, le=100)] = 50,
) -> list[views.UserOut]:
    tenant = tenant_of(request, tenant_id)
    found = user_admin.search(runtime(request), tenant.id, q, limit=limit)
    return [views.UserOut.of(u) for u in found]


@get(USER, sync_to_thread=True)
def get_user(
    tenant_id: FromPath[str], user_id: FromPath[str], request: AnyRequest
) -> schemas.UserDetail:
    tenant = tenant_of(request, tenant_id)
    return schemas.UserDetail.of(user_admin.view(runtime(request), tenant.id, user_id))


@post(USER + "/disable", sync_to_thread=True, status_code=200)
def disable_user(
    tenant_id: FromPath[str], user_id: FromPath[str], request: AnyRequest
) -> views.UserOut:
    """The user's passkeys and password stop signing them in; sessions and refresh tokens are
    revoked."""
    rt = runtime(request)
    changed = operator_changes.set_user_disabled(rt, who(request), tenant_id, user_id, True)
    return views.UserOut.of(changed)


@post(USER + "/enable", sync_to_thread=True, status_code=200)
def enable_user(
    tenant_id: FromPath[str], user_id: FromPath[str], request: AnyRequest
) -> views.UserOut:
    rt = runtime(request)
    changed = operator_changes.set_user_disabled(rt, who(request), tenant_id, user_id, False)
    return views.UserOut.of(changed)


@delete(USER, sync_to_thread=True, status_code=200)
def delete_user(
    tenant_id: FromPath[str], user_id: FromPath[str], request: AnyRequest
) -> views.UserOut:
    gone = operator_changes.delete_user(runtime(request), who(request), tenant_id, user_id)
    return views.UserOut.of(gone)


@get(USER + "/passkeys", sync_to_thread=True)
def list_passkeys(
    tenant_id: FromPath[str], user_id: FromPath[str], request: AnyRequest
) -> list[CredentialOut]:
    tenant = tenant_of(request, tenant_id)
    found = user_admin.view(runtime(request), tenant.id, user_id).passkeys
    return [CredentialOut.of(c) for c in found]


@patch(PASSKEY, sync_to_thread=True)
def rename_passkey(
    tenant_id: FromPath[str],
    user_id: FromPath[str],
    passkey_id: FromPath[str],
    data: JSONBody[schemas.PasskeyRename],
    request: AnyRequest,
) -> CredentialOut:
    renamed = operator_changes.rename_passkey(
        runtime(request), who(request), tenant_id, user_id, passkey_id, data.name
    )
    return CredentialOut.of(renamed)


@delete(PASSKEY, sync_to_thread=True, status_code=200)
def revoke_passkey(
    tenant_id: FromPath[str], user_id: FromPath[str], passkey_id: FromPath[str], request: AnyRequest
) -> CredentialOut:
    """Delete the passkey: its next sign-in fails as an unknown credential."""
    revoked = operator_changes.revoke_passkey(
        runtime(request), who(request), tenant_id, user_id, passkey_id
    )
    return CredentialOut.of(revoked)


handlers = [
    search_users,
    get_user,
    disable_user,
    enable_user,
    delete_user,
    list_passkeys,
    rename_passkey,
    revoke_passkey,
]
