"""The synchronous and asynchronous clients of Latchkey's server API (the tenant's secret key
as HTTP Basic user name). Same calls, same results, same errors."""

from __future__ import annotations

from types import TracebackType
from typing import Any, Self, TypeVar

import httpx

from latchkey.sdk import calls
from latchkey.sdk.errors import TransportError
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
DEFAULT_BASE_URL = "http://127.0.0.1:8000/v1"
DEFAULT_TIMEOUT = 10.0


def _settings(secret_key: str, base_url: str, timeout: float) -> dict[str, Any]:
    if not secret_key:
        raise ValueError("secret_key is required")
    return {
        "base_url": base_url.rstrip("/"),
        "auth": httpx.BasicAuth(secret_key, ""),
        "timeout": timeout,
        "headers": {"user-agent": "latchkey-python-sdk", "accept": "application/json"},
    }


def _unreachable(exc: httpx.RequestError) -> TransportError:
    return TransportError(f"cannot reach Latchkey: {type(exc).__name__}: {exc}")


def _request(call: calls.Call[Any]) -> dict[str, Any]:
    return {"method": call.method, "url": call.path, "json": call.body, "params": call.params}


class LatchkeyClient:
    """`with LatchkeyClient(secret_key, base_url=...) as latchkey: latchkey.track(...)`"""

    def __init__(
        self,
        secret_key: str,
        base_url: str = DEFAULT_BASE_URL,
        timeout: float = DEFAULT_TIMEOUT,
        *,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self._http = httpx.Client(**_settings(secret_key, base_url, timeout), transport=transport)

    def _send(self, call: calls.Call[T]) -> T:
        try:
            response = self._http.request(**_request(call))
        except httpx.RequestError as exc:
            raise _unreachable(exc) from exc
        return calls.read(call, response)

    def track(
        self, user_id: str, action: str, attributes: dict[str, Any] | None = None
    ) -> TrackResult:
        return self._send(calls.track(user_id, action, attributes))

    def validate(
        self, token: str, *, user_id: str | None = None, action: str | None = None
    ) -> ValidateResult:
        return self._send(calls.validate(token, user_id, action))

    def get_user(self, user_id: str) -> User:
        return self._send(calls.get_user(user_id))

    def update_user(self, user_id: str, attributes: dict[str, Any]) -> User:
        return self._send(calls.update_user(user_id, attributes))

    def delete_user(self, user_id: str) -> None:
        self._send(calls.delete_user(user_id))

    def get_authenticators(self, user_id: str) -> list[Authenticator]:
        return self._send(calls.get_authenticators(user_id))

    def delete_authenticator(self, user_id: str, user_authenticator_id: str) -> None:
        self._send(calls.delete_authenticator(user_id, user_authenticator_id))

    def get_action(self, user_id: str, action: str, idempotency_key: str) -> Action:
        return self._send(calls.get_action(user_id, action, idempotency_key))

    def update_action(self, user_id: str, action: str, idempotency_key: str, state: str) -> Action:
        return self._send(calls.update_action(user_id, action, idempotency_key, state))

    def query_users(
        self,
        *,
        username: str | None = None,
        email: str | None = None,
        phone_number: str | None = None,
        token: str | None = None,
        limit: int | None = None,
        last_evaluated_user_id: str | None = None,
    ) -> UserPage:
        """A page of users matching the filters; pass its `last_evaluated_user_id` for the next."""
        return self._send(
            calls.query_users(
                username=username,
                email=email,
                phone_number=phone_number,
                token=token,
                limit=limit,
                last_evaluated_user_id=last_evaluated_user_id,
            )
        )

    def query_user_actions(
        self,
        user_id: str,
        *,
        from_date: str | None = None,
        codes: list[str] | None = None,
        state: str | None = None,
    ) -> list[ListedAction]:
        return self._send(
            calls.query_user_actions(user_id, from_date=from_date, codes=codes, state=state)
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()


class AsyncLatchkeyClient:
    """`async with AsyncLatchkeyClient(secret_key, base_url=...) as latchkey: ...`"""

    def __init__(
        self,
        secret_key: str,
        base_url: str = DEFAULT_BASE_URL,
        timeout: float = DEFAULT_TIMEOUT,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        settings = _settings(secret_key, base_url, timeout)
        self._http = httpx.AsyncClient(**settings, transport=transport)

    async def _send(self, call: calls.Call[T]) -> T:
        try:
            response = await self._http.request(**_request(call))
        except httpx.RequestError as exc:
            raise _unreachable(exc) from exc
        return calls.read(call, response)

    async def track(
        self, user_id: str, action: str, attributes: dict[str, Any] | None = None
    ) -> TrackResult:
        return await self._send(calls.track(user_id, action, attributes))

    async def validate(
        self, token: str, *, user_id: str | None = None, action: str | None = None
    ) -> ValidateResult:
        return await self._send(calls.validate(token, user_id, action))

    async def get_user(self, user_id: str) -> User:
        return await self._send(calls.get_user(user_id))

    async def update_user(self, user_id: str, attributes: dict[str, Any]) -> User:
        return await self._send(calls.update_user(user_id, attributes))

    async def delete_user(self, user_id: str) -> None:
        await self._send(calls.delete_user(user_id))

    async def get_authenticators(self, user_id: str) -> list[Authenticator]:
        return await self._send(calls.get_authenticators(user_id))

    async def delete_authenticator(self, user_id: str, user_authenticator_id: str) -> None:
        await self._send(calls.delete_authenticator(user_id, user_authenticator_id))

    async def get_action(self, user_id: str, action: str, idempotency_key: str) -> Action:
        return await self._send(calls.get_action(user_id, action, idempotency_key))

    async def update_action(
        self, user_id: str, action: str, idempotency_key: str, state: str
    ) -> Action:
        return await self._send(calls.update_action(user_id, action, idempotency_key, state))

    async def query_users(
        self,
        *,
        username: str | None = None,
        email: str | None = None,
        phone_number: str | None = None,
        token: str | None = None,
        limit: int | None = None,
        last_evaluated_user_id: str | None = None,
    ) -> UserPage:
        """A page of users matching the filters; pass its `last_evaluated_user_id` for the next."""
        return await self._send(
            calls.query_users(
                username=username,
                email=email,
                phone_number=phone_number,
                token=token,
                limit=limit,
                last_evaluated_user_id=last_evaluated_user_id,
            )
        )

    async def query_user_actions(
        self,
        user_id: str,
        *,
        from_date: str | None = None,
        codes: list[str] | None = None,
        state: str | None = None,
    ) -> list[ListedAction]:
        return await self._send(
            calls.query_user_actions(user_id, from_date=from_date, codes=codes, state=state)
        )

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        await self.aclose()
