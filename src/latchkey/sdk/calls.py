"""Each API call as data (method, path, body, how to read the answer), so the sync and async
clients share everything but the sending."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar
from urllib.parse import quote

import httpx

from latchkey.sdk import errors
from latchkey.sdk.models import Action, Authenticator, TrackResult, User, ValidateResult

T = TypeVar("T")


@dataclass(frozen=True)
class Call(Generic[T]):
    method: str
    path: str
    parse: Callable[[Any], T]
    body: dict[str, Any] | None = None


def _segment(value: str) -> str:
    if not isinstance(value, str) or not value:
        raise ValueError("identifiers in the path must be non-empty strings")
    return quote(value, safe="")


def _nothing(_data: Any) -> None:
    return None


def track(user_id: str, action: str, attributes: dict[str, Any] | None) -> Call[TrackResult]:
    path = f"/users/{_segment(user_id)}/actions/{_segment(action)}"
    return Call("POST", path, TrackResult.parse, dict(attributes or {}))


def validate(token: str, user_id: str | None, action: str | None) -> Call[ValidateResult]:
    body = {"token": token, "userId": user_id, "action": action}
    return Call(
        "POST", "/validate", ValidateResult.parse, {k: v for k, v in body.items() if v is not None}
    )


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


def read(call: Call[T], response: httpx.Response) -> T:
    """The parsed answer, or the SDK error for what Latchkey said."""
    if response.is_success:
        return call.parse(response.json() if response.content else None)
    try:
        body = response.json()
    except ValueError:
        body = {}
    body = body if isinstance(body, dict) else {}
    kind = errors.for_status(response.status_code)
    failure = kind(
        str(body.get("errorDescription") or body.get("message") or response.reason_phrase),
        status_code=response.status_code,
        error=body.get("error"),
        error_code=body.get("errorCode") or body.get("error"),
    )
    if isinstance(failure, errors.RateLimited):
        retry = response.headers.get("retry-after")
        failure.retry_after = float(retry) if retry and retry.isdigit() else None
    raise failure
