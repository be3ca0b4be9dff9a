"""The files a tenant's RP ID host serves for its native apps and related origins. Reached at
the root by a tenant's own domain (Apple and Google fetch them from there, without redirects),
or under /t/{tenantId}/ to preview them."""

from __future__ import annotations

from typing import Any

from litestar import Response, Router, get

from latchkey.api import errors
from latchkey.api.context import AnyRequest, runtime
from latchkey.api.site import site_of
from latchkey.errors import NotFound
from latchkey.services import apps, association

JSON = "application/json"


@get("/.well-known/apple-app-site-association", sync_to_thread=True, media_type=JSON)
def apple_app_site_association(request: AnyRequest) -> dict[str, Any]:
    site = site_of(request)
    return association.apple_app_site_association(apps.list_for(runtime(request), site.tenant.id))


@get("/.well-known/assetlinks.json", sync_to_thread=True, media_type=JSON)
def asset_links(request: AnyRequest) -> Response[list[dict[str, Any]]]:
    site = site_of(request)
    links = association.asset_links(apps.list_for(runtime(request), site.tenant.id))
    return Response(links, media_type=JSON)


@get("/.well-known/webauthn", sync_to_thread=True, media_type=JSON)
def related_origins(request: AnyRequest) -> dict[str, Any]:
    document = association.related_origins(site_of(request).tenant)
    if document is None:
        raise NotFound("all of this tenant's web origins share one registrable domain")
    return document


HANDLERS = [apple_app_site_association, asset_links, related_origins]
# Errors in the plain shape: these files are fetched by Apple, Google and browsers, not by OAuth
# clients.
router = Router(
    path="/t/{tenant_id:str}",
    tags=["association files"],
    route_handlers=HANDLERS,
    exception_handlers=errors.PLAIN.handlers,
)
domain_router = Router(
    path="/",
    tags=["association files"],
    route_handlers=HANDLERS,
    exception_handlers=errors.PLAIN.handlers,
)
