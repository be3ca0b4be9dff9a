"""Portal pages for users: search, a user and their passkeys; disable or enable the user,
rename or revoke a passkey, each through the management API's handler (and its audit event)."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from litestar import Response, get, post
from litestar.params import FromPath

from latchkey.api.admin import schemas
from latchkey.api.admin import tenants as admin_tenants
from latchkey.api.admin import users as admin_users
from latchkey.api.context import AnyRequest, runtime
from latchkey.api.portal.http import (
    api,
    convert,
    field,
    page,
    session,
    submit,
)
from latchkey.api.portal.signin import Form
from latchkey.services import metadata

USER = "/t/{tenant_id:str}/users/{user_id:str}"
PASSKEY = USER + "/passkeys/{passkey_id:str}"


@get("/t/{tenant_id:str}/users", sync_to_thread=True)
def users(tenant_id: FromPath[str], request: AnyRequest) -> Response[str]:
    session(request)
    tenant = api(admin_tenants.get_tenant, tenant_id=tenant_id, request=request)
    q = (request.query_params.get("q") or "").strip()[:320] or None
    found = api(admin_users.search_users, tenant_id=tenant_id, request=request, q=q, limit=50)
    return page(request, "users.html", title="Users", tenant=tenant, users=found, q=q or "")


def user_page(
    request: AnyRequest, tenant_id: str, user_id: str, status: int = 200, **values: Any
) -> Response[str]:
    tenant = api(admin_tenants.get_tenant, tenant_id=tenant_id, request=request)
    detail = api(admin_users.get_user, tenant_id=tenant_id, user_id=user_id, request=request)
    models = metadata.models_of(runtime(request), [p.aaguid for p in detail.passkeys])
    return page(
        request,
        "user.html",
        title="User",
        tenant=tenant,
        detail=detail,
        models=models,
        status=status,
        **values,
    )


@get(USER, sync_to_thread=True)
def user(tenant_id: FromPath[str], user_id: FromPath[str], request: AnyRequest) -> Response[str]:
    session(request)
    return user_page(request, tenant_id, user_id)


def _act(
    request: AnyRequest, data: dict[str, Any], tenant_id: str, user_id: str,
    action: Callable[[], Any], done: str,
) -> Response[Any]:  # fmt: skip
    def again(request: AnyRequest, tenant_id: str, status: int, **values: Any) -> Response[str]:
        return user_page(request, tenant_id, user_id, status, **values)

    to = f"/portal/t/{tenant_id}/users/{user_id}"
    return submit(request, data, action, again=again, tenant_id=tenant_id, done=done, to=to)


@post(USER + "/disable", sync_to_thread=True, status_code=200)
def disable(
    tenant_id: FromPath[str], user_id: FromPath[str], data: Form, request: AnyRequest
) -> Response[Any]:
    call = partial(api, admin_users.disable_user)
    return _act(
        request, data, tenant_id, user_id,
        lambda: call(tenant_id=tenant_id, user_id=user_id, request=request), "user_disabled",
    )  # fmt: skip


@post(USER + "/enable", sync_to_thread=True, status_code=200)
def enable(
    tenant_id: FromPath[str], user_id: FromPath[str], data: Form, request: AnyRequest
) -> Response[Any]:
    call = partial(api, admin_users.enable_user)
    return _act(
        request, data, tenant_id, user_id,
        lambda: call(tenant_id=tenant_id, user_id=user_id, request=request), "user_enabled",
    )  # fmt: skip


@post(PASSKEY + "/rename", sync_to_thread=True, status_code=200)
def rename(
    tenant_id: FromPath[str],
    user_id: FromPath[str],
    passkey_id: FromPath[str],
    data: Form,
    request: AnyRequest,
) -> Response[Any]:
    def call() -> Any:
        body = convert({"name": field(data, "name", limit=200)}, schemas.PasskeyRename)
        return api(
            admin_users.rename_passkey,
            tenant_id=tenant_id,
            user_id=user_id,
            passkey_id=passkey_id,
            data=body,
            request=request,
        )

    return _act(request, data, tenant_id, user_id, call, "passkey_renamed")


@post(PASSKEY + "/revoke", sync_to_thread=True, status_code=200)
def revoke(
    tenant_id: FromPath[str],
    user_id: FromPath[str],
    passkey_id: FromPath[str],
    data: Form,
    request: AnyRequest,
) -> Response[Any]:
    def call() -> Any:
        return api(
            admin_users.revoke_passkey,
            tenant_id=tenant_id,
            user_id=user_id,
            passkey_id=passkey_id,
            request=request,
        )

    return _act(request, data, tenant_id, user_id, call, "passkey_revoked")


handlers = [users, user, disable, enable, rename, revoke]
