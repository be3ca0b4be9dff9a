"""/admin/v1/tenants/{tenantId}/users: find (by Latchkey id, app user id, e-mail, username,
phone), view, disable or enable, delete; a user's passkeys: list, rename, revoke."""

from __future__ import annotations

from typing import Annotated

from litestar import delete, get, patch, post
from litestar.params import FromPath, JSONBody, QueryParameter

from latchkey.api.admin import schemas
from latchkey.api.admin.auth import change, tenant_of
from latchkey.api.context import AnyRequest, runtime
from latchkey.api.schemas import CredentialOut
from latchkey.services import user_admin

USER = "/tenants/{tenant_id:str}/users/{user_id:str}"
PASSKEY = USER + "/passkeys/{passkey_id:str}"


@get("/tenants/{tenant_id:str}/users", sync_to_thread=True)
def search_users(
    tenant_id: FromPath[str],
    request: AnyRequest,
    q: Annotated[str | None, QueryParameter(max_length=320)] = None,
    limit: Annotated[int, QueryParameter(ge=1, le=100)] = 50,
) -> list[schemas.UserOut]:
    _, tenant = tenant_of(request, tenant_id)
    found = user_admin.search(runtime(request), tenant.id, q, limit=limit)
    return [schemas.UserOut.of(u) for u in found]


@get(USER, sync_to_thread=True)
def get_user(
    tenant_id: FromPath[str], user_id: FromPath[str], request: AnyRequest
) -> schemas.UserDetail:
    _, tenant = tenant_of(request, tenant_id)
    return schemas.UserDetail.of(user_admin.view(runtime(request), tenant.id, user_id))


def _set_disabled(
    request: AnyRequest, tenant_id: str, user_id: str, disabled: bool
) -> schemas.UserOut:
    caller, tenant = tenant_of(request, tenant_id)
    kind = "user.disabled" if disabled else "user.enabled"
    with change(request, caller, kind, tenant.id, userId=user_id) as done:
        done.before = schemas.UserOut.of(user_admin.view(done.rt, tenant.id, user_id).user)
        changed = user_admin.set_disabled(done.rt, tenant.id, user_id, disabled)
        done.after, done.user_id = schemas.UserOut.of(changed), changed.id
    return done.after


@post(USER + "/disable", sync_to_thread=True, status_code=200)
def disable_user(
    tenant_id: FromPath[str], user_id: FromPath[str], request: AnyRequest
) -> schemas.UserOut:
    """The user's passkeys and password stop signing them in; sessions and refresh tokens are
    revoked."""
    return _set_disabled(request, tenant_id, user_id, True)


@post(USER + "/enable", sync_to_thread=True, status_code=200)
def enable_user(
    tenant_id: FromPath[str], user_id: FromPath[str], request: AnyRequest
) -> schemas.UserOut:
    return _set_disabled(request, tenant_id, user_id, False)


@delete(USER, sync_to_thread=True, status_code=200)
def delete_user(
    tenant_id: FromPath[str], user_id: FromPath[str], request: AnyRequest
) -> schemas.UserOut:
    caller, tenant = tenant_of(request, tenant_id)
    with change(request, caller, "user.deleted", tenant.id, userId=user_id) as done:
        done.before = schemas.UserOut.of(user_admin.delete(done.rt, tenant.id, user_id))
    return done.before


@get(USER + "/passkeys", sync_to_thread=True)
def list_passkeys(
    tenant_id: FromPath[str], user_id: FromPath[str], request: AnyRequest
) -> list[CredentialOut]:
    _, tenant = tenant_of(request, tenant_id)
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
    caller, tenant = tenant_of(request, tenant_id)
    target = {"userId": user_id, "passkeyId": passkey_id}
    with change(request, caller, "passkey.renamed", tenant.id, **target) as done:
        before = user_admin.passkey(done.rt, tenant.id, user_id, passkey_id)
        done.before, done.user_id = {"name": before.name}, user_id
        renamed = user_admin.rename_passkey(done.rt, tenant.id, user_id, passkey_id, data.name)
        done.after = {"name": renamed.name}
    return CredentialOut.of(renamed)


@delete(PASSKEY, sync_to_thread=True, status_code=200)
def revoke_passkey(
    tenant_id: FromPath[str], user_id: FromPath[str], passkey_id: FromPath[str], request: AnyRequest
) -> CredentialOut:
    """Delete the passkey: its next sign-in fails as an unknown credential."""
    caller, tenant = tenant_of(request, tenant_id)
    target = {"userId": user_id, "passkeyId": passkey_id}
    with change(request, caller, "passkey.revoked", tenant.id, **target) as done:
        revoked = user_admin.revoke_passkey(done.rt, tenant.id, user_id, passkey_id)
        done.before, done.user_id = CredentialOut.of(revoked), user_id
    return done.before


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
