"""Server API for app backends (HTTP Basic: the tenant's secret key as user name)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, Any

import msgspec
from litestar import Router, delete, get, patch, post
from litestar.params import FromPath, JSONBody, QueryParameter
from sqlalchemy import Connection

from latchkey.api import action_page, errors, tenancy
from latchkey.api.context import AnyRequest, runtime
from latchkey.api.v1 import render
from latchkey.errors import InvalidRequest
from latchkey.services import actions, users
from latchkey.services.actions import Validation

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
    tenant = tenancy.by_secret_key(request)
    done = actions.track(
        runtime(request), tenant, external_user_id=user_id, name=action, attributes=_given(data)
    )
    return {
        "state": done.action.state,
        "idempotencyKey": done.action.idempotency_key,
        "token": done.token,
        "url": action_page.page_url(runtime(request), tenant.id, done.token),
        "isEnrolled": done.enrolled,
        "enrolledVerificationMethods": ["PASSKEY"] if done.enrolled else [],
        "allowedVerificationMethods": ["PASSKEY"],
    }


class ValidateBody(msgspec.Struct, kw_only=True):
    token: Annotated[str, msgspec.Meta(max_length=512)]
    userId: Short | None = None
    action: Annotated[str, msgspec.Meta(max_length=64)] | None = None


@post("/validate", status_code=200, sync_to_thread=True)
def validate(data: JSONBody[ValidateBody], request: AnyRequest) -> dict[str, Any]:
    return validation(validate_job(data, request)(None))


def validate_job(data: ValidateBody, request: AnyRequest) -> Callable[[Any], Validation]:
    """The validation as a job of the group writer (a connection given: its transaction) or
    alone (None: its own transaction). The tenant is resolved first, from the cached key."""
    rt, tenant = runtime(request), tenancy.by_secret_key(request)

    def run(conn: Connection | None) -> Validation:
        if conn is None:
            return actions.validate(
                rt, tenant, data.token, user_id=data.userId, action_name=data.action
            )
        return actions.validate_in(
            conn, rt, tenant, data.token, user_id=data.userId, action_name=data.action
        )

    return run


def validation(checked: Validation) -> dict[str, Any]:
    if checked.action is None or checked.user is None:
        return {"isValid": False}
    return {"isValid": checked.is_valid, **render.action(checked.action, checked.user)}


@get("/users", sync_to_thread=True)
def query_users(
    request: AnyRequest,
    username: Annotated[str | None, QueryParameter(max_length=255)] = None,
    email: Annotated[str | None, QueryParameter(max_length=320)] = None,
    phone_number: Annotated[str | None, QueryParameter(name="phoneNumber", max_length=32)] = None,
    token: Annotated[str | None, QueryParameter(max_length=512)] = None,
    limit: Annotated[int, QueryParameter(ge=1, le=users.MAX_PAGE)] = 20,
    last_user: Annotated[
        str | None, QueryParameter(name="lastEvaluatedUserId", max_length=255)
    ] = None,
) -> dict[str, Any]:
    """The vendor's queryUsers: filters, `limit`, and `lastEvaluatedUserId` to page on."""
    rt, tenant = runtime(request), tenancy.by_secret_key(request)
    owner = None
    if token is not None:
        owner = actions.token_owner(rt, tenant, token)
        if owner is None:
            return {"users": []}
    page, last = users.query(
        rt,
        tenant,
        username=username,
        email=email,
        phone_number=phone_number,
        user_id=owner,
        limit=limit,
        after=last_user,
    )
    answer: dict[str, Any] = {"users": [render.listed_user(u, proved) for u, proved in page]}
    if last is not None:
        answer["lastEvaluatedUserId"] = last
    return answer


@get("/users/{user_id:str}/actions", sync_to_thread=True)
def query_user_actions(
    user_id: FromPath[str],
    request: AnyRequest,
    from_date: Annotated[str | None, QueryParameter(name="fromDate", max_length=64)] = None,
    codes: Annotated[str | None, QueryParameter(max_length=4096)] = None,
    wanted_state: Annotated[str | None, QueryParameter(name="state", max_length=32)] = None,
    limit: Annotated[int, QueryParameter(ge=1, le=actions.MAX_ACTIONS)] = actions.MAX_ACTIONS,
) -> list[dict[str, Any]]:
    """The vendor's queryUserActions: newest first, by `fromDate`, `codes` (comma-separated
    action names) and `state`."""
    found = actions.of_user(
        runtime(request),
        tenancy.by_secret_key(request),
        external_user_id=user_id,
        since=_instant(from_date) if from_date else None,
        names=[c for c in (codes or "").split(",") if c],
        state=wanted_state,
        limit=limit,
    )
    return [render.listed_action(a) for a in found]


def _instant(value: str) -> datetime:
    """An ISO 8601 date or time (UTC when it names no offset)."""
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise InvalidRequest("fromDate must be an ISO 8601 date or time") from exc
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@get("/users/{user_id:str}", sync_to_thread=True)
def get_user(user_id: FromPath[str], request: AnyRequest) -> dict[str, Any]:
    found = users.profile(
        runtime(request), tenancy.by_secret_key(request), external_user_id=user_id
    )
    if found is None:
        return render.unknown_user(user_id)
    return render.user(found.user, enrolled=found.enrolled, verified=found.verified)


class UserPatch(msgspec.Struct, kw_only=True):
    username: Short | None = None
    displayName: Short | None = None
    email: Annotated[str, msgspec.Meta(max_length=320)] | None = None
    emailVerified: bool | None = None
    phoneNumber: Annotated[str, msgspec.Meta(max_length=32)] | None = None
    phoneNumberVerified: bool | None = None
    custom: dict[str, Any] | None = None


@patch("/users/{user_id:str}", sync_to_thread=True)
def update_user(
    user_id: FromPath[str], data: JSONBody[UserPatch], request: AnyRequest
) -> dict[str, Any]:
    changed = users.update(
        runtime(request),
        tenancy.by_secret_key(request),
        external_user_id=user_id,
        attributes=_given(data),
    )
    return render.user(changed.user, enrolled=changed.enrolled, verified=changed.verified)


@delete("/users/{user_id:str}", status_code=200, sync_to_thread=True)
def delete_user(user_id: FromPath[str], request: AnyRequest) -> dict[str, Any]:
    users.delete(runtime(request), tenancy.by_secret_key(request), external_user_id=user_id)
    return {"success": True}


@get("/users/{user_id:str}/authenticators", sync_to_thread=True)
def get_authenticators(user_id: FromPath[str], request: AnyRequest) -> list[dict[str, Any]]:
    tenant = tenancy.by_secret_key(request)
    found = users.credentials_of(runtime(request), tenant, external_user_id=user_id)
    return [render.authenticator(c, user_id) for c in found or []]


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
        tenancy.by_secret_key(request),
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
        tenancy.by_secret_key(request),
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
        tenancy.by_secret_key(request),
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
        query_users,
        query_user_actions,
        get_user,
        update_user,
        delete_user,
        get_authenticators,
        delete_authenticator,
        get_action,
        update_action,
    ],
)
