"""The calling OAuth client: authenticated (RFC 6749 §2.3) and allowed the grant it uses."""

from __future__ import annotations

from typing import Any

from latchkey.models import App, Tenant
from latchkey.oauth2.errors import InvalidClient, UnauthorizedClient
from latchkey.runtime import Runtime
from latchkey.services import apps


def authenticate(rt: Runtime, tenant: Tenant, client_id: Any, client_secret: Any) -> App:
    """The tenant's app with this client_id, its secret checked when it is confidential."""
    if not isinstance(client_id, str) or not client_id:
        raise InvalidClient("client_id is required")
    try:
        app = apps.get(rt, client_id)
    except apps.AppNotFound as exc:
        raise InvalidClient("unknown client") from exc
    if app.tenant_id != tenant.id:
        raise InvalidClient("unknown client")
    try:
        apps.authenticate(app, client_secret if isinstance(client_secret, str) else None)
    except apps.InvalidClient as exc:
        raise InvalidClient(exc.message) from exc
    return app


def require_grant(app: App, grant_type: str, name: str) -> None:
    if grant_type not in app.grant_types:
        raise UnauthorizedClient(f"the {name} grant is not enabled for this app")
