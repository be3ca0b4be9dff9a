"""Server API for app backends (HTTP Basic: the tenant's secret key as user name)."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Router, delete, get, patch, post
from litestar.params import FromPath, JSONBody

from latchkey.api import errors
from latchkey.api.auth import secret_tenant
from latchkey.api.context import AnyRequest, runtime
from latchkey.api.fastpath import fast_post
from latchkey.api.v1 import render
from latchkey.services import actions, users

Short = Annotated[str, msgspec.Meta(max_length=255)]


class TrackBody(msgspec.Struct, kw_only=True):
    """Track attributes (camelCase on the wire, as the vendor's SDKs send them)."""

    email: Annotated[str, msgspec.Meta(max_length=320)] | None = None
    username: Short | None = None
    displayName: Short | None = None
    phoneNumber: Annotated[str, msgspec.Meta(max_length=32)] | None = None
    redirectUrl: Annotated[str, msgspec.Meta(max_length=2048)] | None = None
    ipAddress: Annotated[str, msgspec.Meta(max_length=64)] | None = None
    userAgent: Annotated[str, msgspec.Meta(max_length=1024)] | None = None
    deviceId: Short | None = None
    scope: Short | None = None
    custom: dict[str, Any] | None = None
    idempotencyKey: Annotated[str, msgspec.Meta(max_length=64)] | None = None


def _given(body: msgspec.Struct | None) -> dict[str, Any]:
    """The fields the caller sent, without the ones left at None."""
    if body is None:
        return {}
    return {k: v for k, v in msgspec.structs.asdict(body).items() if v is not None}


@post("/users/{user_id:str}/actions/{action:str}", status_code=200, sync_to_thread=True)
def track(
    user_id: FromPath[str],
    action: FromPath[str],
    request: AnyRequest,
    data: JSONBody[TrackBody | None] = None,
) -> dict[str, Any]:
    tenant = secret_tenant(request)
    done = actions.track(
        runtime(request), tenant, external_user_id=user_id, name=action, attributes=_given(data)
    )
    return {
        "state": done.action.state,
        "idempotencyKey": done.action.idempotency_key,
        "token": done.token,
        "url": None,
        "isEnrolled": done.enrolled,
        "enrolledVerificationMethods": ["PASSKEY"] if done.enrolled else [],
        "allowedVerificationMethods": ["PASSKEY"],
    }


class ValidateBody(msgspec.Struct, kw_only=True):
    token: Annotated[str, msgspec.Meta(max_length=512)]
    userId: Short | None = None
    action: Annotated[str, msgspec.Meta(max_length=64)] | None = None


@fast_post("/validate", body=ValidateBody)
def validate(data: JSONBody[ValidateBody], request: AnyRequest) -> dict[str, Any]:
    checked = actions.validate(
        runtime(request),
        secret_tenant(request),
        data.token,
        user_id=data.userId,
        action_name=data.action,
    )
    if checked.action is None or checked.user is None:
        return {"isValid": False}
    return {"isValid": checked.is_valid, **render.action(checked.action, checked.user)}


@get("/users/{user_id:str}", sync_to_thread=True)
def get_user(user_id: FromPath[str], request: AnyRequest) -> dict[str, Any]:
    found = users.profile(runtime(request), secret_tenant(request), external_user_id=user_id)
    if found is None:
        return render.unknown_user(user_id)
    return render.user(found.user, enrolled=found.enrolled)


class UserPatch(msgspec.Struct, kw_only=True):
    username: Short | None = None
    displayName: Short | None = None
    email: Annotated[str, msgspec.Meta(max_length=320)] | None = None
    phoneNumber: Annotated[str, msgspec.Meta(max_length=32)] | None = None


@patch("/users/{user_id:str}", sync_to_thread=True)
def update_user(
    user_id: FromPath[str], data: JSONBody[UserPatch], request: AnyRequest
) -> dict[str, Any]:
    changed = users.update(
        runtime(request),
        secret_tenant(request),
        external_user_id=user_id,
        attributes=_given(data),
    )
    return render.user(changed.user, enrolled=changed.enrolled)


@delete("/users/{user_id:str}", status_code=200, sync_to_thread=True)
def delete_user(user_id: FromPath[str], request: AnyRequest) -> dict[str, Any]:
    users.delete(runtime(request), secret_tenant(request), external_user_id=user_id)
    return {"success": True}


@get("/users/{user_id:str}/authenticators", sync_to_thread=True)
def get_authenticators(user_id: FromPath[str], request: AnyRequest) -> list[dict[str, Any]]:
    tenant = secret_tenant(request)
    found = users.credentials_of(runtime(request), tenant, external_user_id=user_id)
    return [render.authenticator(c) for c in found or []]


@delete(
    "/users/{user_id:str}/authenticators/{authenticator_id:str}",
    status_code=200,
    sync_to_thread=True,
)
def delete_authenticator(
    user_id: FromPath[str], authenticator_id: FromPath[str], request: AnyRequest
) -> dict[str, Any]:
    users.delete_credential(
        runtime(request),
        secret_tenant(request),
        external_user_id=user_id,
        credential_row_id=authenticator_id,
    )
    return {"success": True}


@get("/users/{user_id:str}/actions/{action:str}/{idempotency_key:str}", sync_to_thread=True)
def get_action(
    user_id: FromPath[str],
    action: FromPath[str],
    idempotency_key: FromPath[str],
    request: AnyRequest,
) -> dict[str, Any]:
    found, user = actions.find(
        runtime(request),
        secret_tenant(request),
        external_user_id=user_id,
        name=action,
        idempotency_key=idempotency_key,
    )
    return render.action(found, user)


class ActionPatch(msgspec.Struct):
    state: Annotated[str, msgspec.Meta(max_length=32)]


@patch("/users/{user_id:str}/actions/{action:str}/{idempotency_key:str}", sync_to_thread=True)
def update_action(
    user_id: FromPath[str],
    action: FromPath[str],
    idempotency_key: FromPath[str],
    data: JSONBody[ActionPatch],
    request: AnyRequest,
) -> dict[str, Any]:
    changed, user = actions.set_state(
        runtime(request),
        secret_tenant(request),
        external_user_id=user_id,
        name=action,
        idempotency_key=idempotency_key,
        state=data.state,
    )
    return render.action(changed, user)


router = Router(
    path="/v1",
    exception_handlers=errors.V1.handlers,
    tags=["server API"],
    route_handlers=[
        track,
        validate,
        get_user,
        update_user,
        delete_user,
        get_authenticators,
        delete_authenticator,
        get_action,
        update_action,
    ],
)
