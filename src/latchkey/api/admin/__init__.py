"""The management API (/admin/v1): operators configure tenants, apps, pools, keys, users and
passkeys, and read the event log. Errors are {"error", "message"}, like the ceremony API's."""

from __future__ import annotations

from litestar import Router

from latchkey.api import errors
from latchkey.api.admin import (
    adoption,
    apps,
    directories,
    events,
    keys,
    tenants,
    tokens,
    users,
    webhooks,
)

router = Router(
    path="/admin/v1",
    exception_handlers=errors.PLAIN.handlers,
    tags=["management API"],
    security=[{"operatorToken": []}],
    route_handlers=[
        *tokens.handlers,
        *tenants.handlers,
        *apps.handlers,
        *directories.handlers,
        *keys.handlers,
        *users.handlers,
        *events.handlers,
        *adoption.handlers,
        *webhooks.handlers,
    ],
)
