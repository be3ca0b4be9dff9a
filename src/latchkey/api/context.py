"""What a handler needs from the request besides its body: the runtime and who is calling."""

from __future__ import annotations

from typing import Any

from litestar import Request

from latchkey.runtime import RequestMeta, Runtime

AnyRequest = Request[Any, Any, Any]


def runtime(request: AnyRequest) -> Runtime:
    # The app's own attribute when it has one (create_app's LatchkeyApp): the cheaper lookup.
    rt: Runtime | None = getattr(request.app, "latchkey_runtime", None)
    if rt is None:
        found: Runtime = request.app.state.runtime
        return found
    return rt


def secure(request: AnyRequest) -> bool:
    """Whether the request came over https, so the cookies set on its answer are Secure."""
    return request.scope["scheme"] == "https"


def request_meta(request: AnyRequest) -> RequestMeta:
    return RequestMeta(
        ip=request.client.host if request.client else None,
        user_agent=request.headers.get("user-agent"),
    )
