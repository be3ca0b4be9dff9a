"""Which API an access token is for (RFC 9068 §3 `aud`): an audience the app registered
(`latchkey app ... --audience`), or the tenant's own API audience when it registered none.
A client names it with `audience` (as the Auth0 SDKs send it) or `resource` (RFC 8707 §2);
one the app did not register is `invalid_target`. A resource server checks `aud` against its
own identifier."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from latchkey.models import App
from latchkey.oauth2.errors import InvalidRequest, InvalidTarget


def tenant_audience(public_url: str, tenant_id: str) -> str:
    """The tenant's own API audience: stable, whatever host the token was asked at."""
    return f"{public_url.rstrip('/')}/t/{tenant_id}/api"


def allowed(app: App, public_url: str) -> tuple[str, ...]:
    return app.audiences or (tenant_audience(public_url, app.tenant_id),)


def asked(params: Mapping[str, Any]) -> str | None:
    """The audience a token request names, if any."""
    named = [params.get(k) for k in ("audience", "resource") if params.get(k) not in (None, "")]
    if not named:
        return None
    if not all(isinstance(v, str) and len(v) <= 1024 for v in named):
        raise InvalidRequest("audience and resource must be strings")
    if len(set(named)) > 1:
        raise InvalidTarget("audience and resource name different APIs")
    return str(named[0])


def resolve(app: App, public_url: str, audience: str | None) -> str:
    """The audience to issue for: the one asked if the app registered it, else the first."""
    registered = allowed(app, public_url)
    if audience is None:
        return registered[0]
    if audience not in registered:
        raise InvalidTarget(f"the audience {audience[:200]!r} is not registered for this app")
    return audience
