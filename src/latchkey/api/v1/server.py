"""Server API for app backends (HTTP Basic: the tenant's secret key as user name)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Request
from pydantic import BaseModel, ConfigDict, Field

from latchkey.api.auth import runtime, secret_from_header
from latchkey.api.v1 import render
from latchkey.errors import UserNotFound
from latchkey.models import Tenant
from latchkey.services import actions, api_keys, tenants
from latchkey.store import credentials as credential_store
from latchkey.store import users as user_store

router = APIRouter(prefix="/v1", tags=["server API"])


def server_tenant(request: Request) -> Tenant:
    rt = runtime(request)
    tenant_id = api_keys.tenant_for_secret(
        rt, secret_from_header(request.headers.get("authorization"))
    )
    return tenants.get(rt, tenant_id)


ServerTenant = Annotated[Tenant, Depends(server_tenant)]


class TrackBody(BaseModel):
    model_config = ConfigDict(extra="allow")
    email: str | None = Field(default=None, max_length=255)
    username: str | None = Field(default=None, max_length=255)
    displayName: str | None = Field(default=None, max_length=255)
    redirectUrl: str | None = Field(default=None, max_length=2048)
    ipAddress: str | None = Field(default=None, max_length=64)
    userAgent: str | None = Field(default=None, max_length=1024)
    deviceId: str | None = Field(default=None, max_length=255)
    scope: str | None = Field(default=None, max_length=255)
    custom: dict[str, Any] | None = None


@router.post("/users/{user_id}/actions/{action}")
def track(
    user_id: str,
    action: str,
    request: Request,
    tenant: ServerTenant,
    body: Annotated[TrackBody | None, Body()] = None,
) -> dict[str, Any]:
    attributes = (body or TrackBody()).model_dump(exclude_none=True)
    done = actions.track(
        runtime(request), tenant, external_user_id=user_id, name=action, attributes=attributes
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


class ValidateBody(BaseModel):
    token: str = Field(max_length=512)
    userId: str | None = None
    action: str | None = None


@router.post("/validate")
def validate(body: ValidateBody, request: Request, tenant: ServerTenant) -> dict[str, Any]:
    checked = actions.validate(
        runtime(request), tenant, body.token, user_id=body.userId, action_name=body.action
    )
    if checked.action is None or checked.user is None:
        return {"isValid": False}
    return {"isValid": checked.is_valid, **render.action(checked.action, checked.user)}


@router.get("/users/{user_id}")
def get_user(user_id: str, request: Request, tenant: ServerTenant) -> dict[str, Any]:
    with runtime(request).transaction() as conn:
        user = user_store.by_external_id(conn, tenant.id, user_id)
        if user is None:
            raise UserNotFound(f"no user {user_id!r}")
        enrolled = bool(credential_store.for_user(conn, tenant.id, user.id))
    return render.user(user, enrolled=enrolled)


@router.get("/users/{user_id}/authenticators")
def get_authenticators(
    user_id: str, request: Request, tenant: ServerTenant
) -> list[dict[str, Any]]:
    with runtime(request).transaction() as conn:
        user = user_store.by_external_id(conn, tenant.id, user_id)
        if user is None:
            raise UserNotFound(f"no user {user_id!r}")
        found = credential_store.for_user(conn, tenant.id, user.id)
    return [render.authenticator(c) for c in found]


@router.get("/users/{user_id}/actions/{action}/{idempotency_key}")
def get_action(
    user_id: str, action: str, idempotency_key: str, request: Request, tenant: ServerTenant
) -> dict[str, Any]:
    found, user = actions.find(
        runtime(request),
        tenant,
        external_user_id=user_id,
        name=action,
        idempotency_key=idempotency_key,
    )
    return render.action(found, user)


class ActionPatch(BaseModel):
    state: str


@router.patch("/users/{user_id}/actions/{action}/{idempotency_key}")
def update_action(
    user_id: str,
    action: str,
    idempotency_key: str,
    body: ActionPatch,
    request: Request,
    tenant: ServerTenant,
) -> dict[str, Any]:
    changed, user = actions.set_state(
        runtime(request),
        tenant,
        external_user_id=user_id,
        name=action,
        idempotency_key=idempotency_key,
        state=body.state,
    )
    return render.action(changed, user)
