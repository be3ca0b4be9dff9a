"""Portal pages for users: search, a user and their passkeys; disable or enable the user,
rename or revoke a passkey, each an operator's change (services/operator_changes.py) with its
audit event."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from litestar import Response, get, post
from litestar.params import FromPath

from latchkey.api.admin import schemas
from latchkey.api.context import AnyRequest, runtime
from latchkey.api.portal.http import convert, field, page, session, submit, tenant
from latchkey.api.portal.signin import Form
from latchkey.services import metadata, operator_changes, user_admin, views
from latchkey.services.operator_changes import Who

USER = "/t/{tenant_id:str}/users/{user_id:str}"
PASSKEY = USER + "/passkeys/{passkey_id:str}"


@get("/t/{tenant_id:str}/users", sync_to_thread=True)
def users(tenant_id: FromPath[str], request: AnyRequest) -> Response[str]:
    session(request)
    shown = tenant(request, tenant_id)
    q = (request.query_params.get("q") or "").strip()[:320] or None
    found = user_admin.search(runtime(request), shown.id, q, limit=50)
    listed = [views.UserOut.of(u) for u in found]
    return page(request, "users.html", title="Users", tenant=shown, users=listed, q=q or "")


def user_page(
    request: AnyRequest, tenant_id: str, user_id: str, status: int = 200, **values: Any
) -> Response[str]:
    shown = tenant(request, tenant_id)
    detail = schemas.UserDetail.of(user_admin.view(runtime(request), shown.id, user_id))
    models = metadata.models_of(runtime(request), [p.aaguid for p in detail.passkeys])
    return page(
        request,
        "user.html",
        title="User",
        tenant=shown,
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
    action: Callable[[Who], Any], done: str,
) -> Response[Any]:  # fmt: skip
    def again(request: AnyRequest, tenant_id: str, status: int, **values: Any) -> Response[str]:
        return user_page(request, tenant_id, user_id, status, **values)

    to = f"/portal/t/{tenant_id}/users/{user_id}"
    return submit(request, data, action, again=again, tenant_id=tenant_id, done=done, to=to)


@post(USER + "/disable", sync_to_thread=True, status_code=200)
def disable(
    tenant_id: FromPath[str], user_id: FromPath[str], data: Form, request: AnyRequest
) -> Response[Any]:
    def call(who: Who) -> Any:
        return operator_changes.set_user_disabled(runtime(request), who, tenant_id, user_id, True)

    return _act(request, data, tenant_id, user_id, call, "user_disabled")


@post(USER + "/enable", sync_to_thread=True, status_code=200)
def enable(
    tenant_id: FromPath[str], user_id: FromPath[str], data: Form, request: AnyRequest
) -> Response[Any]:
    def call(who: Who) -> Any:
        return operator_changes.set_user_disabled(runtime(request), who, tenant_id, user_id, False)

    return _act(request, data, tenant_id, user_id, call, "user_enabled")


@post(PASSKEY + "/rename", sync_to_thread=True, status_code=200)
def rename(
    tenant_id: FromPath[str],
    user_id: FromPath[str],
    passkey_id: FromPath[str],
    data: Form,
    request: AnyRequest,
) -> Response[Any]:
    def call(who: Who) -> Any:
        body = convert({"name": field(data, "name", limit=200)}, schemas.PasskeyRename)
        return operator_changes.rename_passkey(
            runtime(request), who, tenant_id, user_id, passkey_id, body.name
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
    def call(who: Who) -> Any:
        return operator_changes.revoke_passkey(
            runtime(request), who, tenant_id, user_id, passkey_id
        )

    return _act(request, data, tenant_id, user_id, call, "passkey_revoked")


handlers = [users, user, disable, enable, rename, revoke]
