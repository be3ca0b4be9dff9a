"""Discovery: the OpenID provider configuration, the same document as RFC 8414 authorization
server metadata (also at the RFC's path for an issuer with a path), and the tenant's JWKS."""

from __future__ import annotations

from typing import Any

from litestar import get

from latchkey.api.context import AnyRequest, runtime
from latchkey.api.site import site_of
from latchkey.oidc import discovery
from latchkey.services import signing_keys


@get("/.well-known/openid-configuration", sync_to_thread=True)
def openid_configuration(request: AnyRequest) -> dict[str, Any]:
    return discovery.metadata(site_of(request).issuer)


@get("/.well-known/oauth-authorization-server", sync_to_thread=True)
def authorization_server(request: AnyRequest) -> dict[str, Any]:
    """RFC 8414 §3 beside OIDC discovery: the same document. For an issuer with a path
    (/t/{tenantId}/) RFC 8414 puts the well-known part first; see `path_issuer_metadata`."""
    return discovery.metadata(site_of(request).issuer)


@get("/.well-known/jwks.json", sync_to_thread=True)
def jwks(request: AnyRequest) -> dict[str, Any]:
    site = site_of(request)
    return signing_keys.jwks(runtime(request), site.tenant.id)


@get("/.well-known/oauth-authorization-server/t/{tenant_id:str}", sync_to_thread=True)
def path_issuer_metadata(request: AnyRequest) -> dict[str, Any]:
    """RFC 8414 §3.1: the metadata of issuer `{public URL}/t/{tenantId}/` at
    `/.well-known/oauth-authorization-server/t/{tenantId}`."""
    return discovery.metadata(site_of(request).issuer)
