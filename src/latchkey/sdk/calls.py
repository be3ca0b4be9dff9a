"""Each API call as data (method, path, body, how to read the answer), so the sync and async
clients share everything but the sending."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar
from urllib.parse import quote

import httpx

from latchkey.sdk import errors
from latchkey.sdk.models import (
    Action,
    Authenticator,
    ListedAction,
    TrackResult,
    User,
    UserPage,
    ValidateResult,
)

T = TypeVar("T")


@dataclass(frozen=True)
class Call(Generic[T]):
    method: str
    path: str
    parse: Callable[[Any], T]
    body: dict[str, Any] | None = None
    params: dict[str, str] | None = None


def _segment(value: str) -> str:
    """One URL path segment; `.` and `..` escaped too, so they name, never navigate."""
    if not isinstance(value, str) or not value:
        raise ValueError("identifiers in the path must be non-empty strings")
    quoted = quote(value, safe="")
    return quoted.replace(".", "%2E") if quoted in {".", ".."} else quoted


def _nothing(_data: Any) -> None:
    return None


def track(user_id: str, action: str, attributes: dict[str, Any] | None) -> Call[TrackResult]:
    path = f"/users/{_segment(user_id)}/actions/{_segment(action)}"
    return Call("POST", path, TrackResult.parse, dict(attributes or {}))


def validate(token: str, user_id: str | None, action: str | None) -> Call[ValidateResult]:
    given = {"token": token, "userId": user_id, "action": action}
    body = {key: value for key, value in given.items() if value is not None}
    return Call("POST", "/validate", ValidateResult.parse, body)


def get_user(user_id: str) -> Call[User]:
    return Call("GET", f"/users/{_segment(user_id)}", User.parse)


def update_user(user_id: str, attributes: dict[str, Any]) -> Call[User]:
    return Call("PATCH", f"/users/{_segment(user_id)}", User.parse, dict(attributes))


def delete_user(user_id: str) -> Call[None]:
    return Call("DELETE", f"/users/{_segment(user_id)}", _nothing)


def get_authenticators(user_id: str) -> Call[list[Authenticator]]:
    return Call(
        "GET",
        f"/users/{_segment(user_id)}/authenticators",
        lambda data: [Authenticator.parse(item) for item in data],
    )


def delete_authenticator(user_id: str, user_authenticator_id: str) -> Call[None]:
    path = f"/users/{_segment(user_id)}/authenticators/{_segment(user_authenticator_id)}"
    return Call("DELETE", path, _nothing)


def _action_path(user_id: str, action: str, idempotency_key: str) -> str:
    return f"/users/{_segment(user_id)}/actions/{_segment(action)}/{_segment(idempotency_key)}"


def get_action(user_id: str, action: str, idempotency_key: str) -> Call[Action]:
    return Call("GET", _action_path(user_id, action, idempotency_key), Action.parse)


def update_action(user_id: str, action: str, idempotency_key: str, state: str) -> Call[Action]:
    path = _action_path(user_id, action, idempotency_key)
    return Call("PATCH", path, Action.parse, {"state": state})


def query_users(
    *,
    username: str | None,
    email: str | None,
    phone_number: str | None,
    token: str | None,
    limit: int | None,
    last_evaluated_user_id: str | None,
) -> Call[UserPage]:
    given = {
        "username": username,
        "email": email,
        "phoneNumber": phone_number,
        "token": token,
        "limit": str(limit) if limit is not None else None,
        "lastEvaluatedUserId": last_evaluated_user_id,
    }
    params = {key: value for key, value in given.items() if value is not None}
    return Call("GET", "/users", UserPage.parse, params=params)


def query_user_actions(
    user_id: str, *, from_date: str | None, codes: list[str] | None, state: str | None
) -> Call[list[ListedAction]]:
    given = {"fromDate": from_date, "codes": ",".join(codes) if codes else None, "state": state}
    params = {key: value for key, value in given.items() if value is not None}
    return Call(
        "GET",
        f"/users/{_segment(user_id)}/actions",
        lambda data: [ListedAction.parse(item) for item in data],
        params=params,
    )


def read(call: Call[T], response: httpx.Response) -> T:
    """The parsed answer, or the SDK error for what Latchkey said."""
    if not response.is_success:
        raise failure(response)
    try:
        return call.parse(response.json() if response.content else None)
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise errors.LatchkeyError(
            f"unexpected answer to {call.method} {call.path}: {type(exc).__name__}",
            status_code=response.status_code,
        ) from exc


def failure(response: httpx.Response) -> errors.LatchkeyError:
    """The error for a refusal, from the wire's {error, errorCode, errorDescription}."""
    body = _json_object(response)
    kind = errors.for_status(response.status_code)
    found = kind(
        str(body.get("errorDescription") or body.get("message") or response.reason_phrase),
        status_code=response.status_code,
        error=body.get("error"),
        error_code=body.get("errorCode") or body.get("error"),
    )
    if isinstance(found, errors.RateLimited):
        found.retry_after = _seconds(response.headers.get("retry-after"))
    return found


def _json_object(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _seconds(value: str | None) -> float | None:
    try:
        return float(value) if value else None
    except ValueError:
        return None  # an HTTP date: the caller picks its own back-off
