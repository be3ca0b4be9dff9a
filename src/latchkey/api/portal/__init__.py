"""The operator portal (/portal): server-rendered pages; each change goes through
services/operator_changes.py, as the management API's and the CLI's do.
A page that needs a session and has none sends the browser to sign in; other refusals are
shown as a page with the reason and the right status (never a traceback)."""

from __future__ import annotations

from typing import Any

from litestar import Response, Router
from litestar.response import Redirect

from latchkey.api.context import AnyRequest
from latchkey.api.errors import PLAIN
from latchkey.api.portal import (
    adoption,
    apps,
    events,
    keys,
    overview,
    pools,
    signin,
    tenants,
    users,
    webhooks,
)
from latchkey.api.portal.http import NotSignedIn, html
from latchkey.errors import LatchkeyError
from latchkey.web.pages import render


def _wants_json(request: AnyRequest) -> bool:
    return "application/json" in (request.headers.get("content-type") or "") or (
        "text/html" not in (request.headers.get("accept") or "")
    )


def _sign_in(request: AnyRequest, exc: NotSignedIn) -> Response[Any]:
    if _wants_json(request):
        return PLAIN.handlers[LatchkeyError](request, exc)
    return Redirect("/portal/login", status_code=303, headers={"cache-control": "no-store"})


def _refused(request: AnyRequest, exc: LatchkeyError) -> Response[Any]:
    """JSON for the portal's JSON steps, a page with the reason for a browser."""
    if _wants_json(request):
        return PLAIN.handlers[LatchkeyError](request, exc)
    body = render("portal/error.html", title="Not possible", message=exc.message)
    return html(body, exc.status)


router = Router(
    path="/portal",
    include_in_schema=False,
    exception_handlers={NotSignedIn: _sign_in, LatchkeyError: _refused},
    route_handlers=[
        *signin.handlers,
        *tenants.handlers,
        *overview.handlers,
        *adoption.handlers,
        *users.handlers,
        *events.handlers,
        *keys.handlers,
        *apps.handlers,
        *pools.handlers,
        *webhooks.handlers,
    ],
)
