"""Which tenant a request is for: the one place that reads it from a request.

Each surface accepts one way, and none trusts more than what it reads:
- `by_path`: the path names it (`/t/{tenantId}/...`, a pool's `/{tenantId}/identity/...`, the
  action page). A name, not a proof: what is done there is authorised otherwise (a client
  secret, a flow cookie, a passkey).
- `by_host`: the Host is one of the tenant's proved domains (OIDC at a custom domain).
- `by_secret_key`: the tenant's secret key (the /v1 server API; the ceremony API, whose path
  must then name the same tenant).
- `by_client`: the browser client API's `Bearer <action token>` (the token's tenant) or
  `Basic base64(tenantId)` (a public name, like the path).
Lookups go through the runtime's tenant cache (services/tenants.py), so the hot path's
resolution (api/hot_routes.py, through the client API) costs no query.
"""

from __future__ import annotations

import binascii
from base64 import b64decode, urlsafe_b64decode
from functools import lru_cache
from urllib.parse import unquote

from latchkey.api import hosts
from latchkey.api.auth import secret_from_header
from latchkey.api.context import AnyRequest, runtime
from latchkey.errors import InvalidToken, TenantNotFound
from latchkey.models import Action, Tenant, User
from latchkey.services import actions, api_keys, tenants


def by_path(request: AnyRequest) -> Tenant:
    """The tenant the path's `tenant_id` names."""
    return tenants.get(runtime(request), request.path_params["tenant_id"])


def by_host(request: AnyRequest) -> tuple[Tenant, hosts.Host]:
    """The tenant one of whose proved domains the Host names, with that Host."""
    host = hosts.of(request.scope)
    if host is None:
        raise TenantNotFound("the request names no host")
    return tenants.for_domain(runtime(request), host.name), host


def by_secret_key(request: AnyRequest, tenant_id: str | None = None) -> Tenant:
    """The tenant whose secret key the request carries (HTTP Basic user name, or Bearer). With
    `tenant_id` (the path's), it must be that tenant: another one is not found."""
    rt = runtime(request)
    secret = secret_from_header(request.headers.get("authorization"))
    tenant = tenants.get(rt, api_keys.tenant_for_secret(rt, secret))
    if tenant_id is not None and tenant.id != tenant_id:
        raise TenantNotFound(f"no tenant {tenant_id!r} for this key")
    return tenant


def by_client(request: AnyRequest) -> tuple[Tenant, tuple[Action, User] | None]:
    """The client API's caller: an action token's tenant, with the action and its user; or the
    tenant a Basic credential names, with none."""
    rt = runtime(request)
    scheme, _, value = (request.headers.get("authorization") or "").partition(" ")
    scheme = scheme.lower()
    if scheme == "bearer":
        action, user = actions.authorize(rt, value.strip())
        return tenants.get(rt, action.tenant_id), (action, user)
    if scheme == "basic":
        return tenants.get(rt, basic_tenant_id(value.strip())), None
    raise InvalidToken("send Bearer <token> or Basic base64(tenantId)")


@lru_cache(maxsize=1024)  # every browser request sends it: a server's few tenants decode once
def basic_tenant_id(value: str) -> str:
    """The tenant id in every form the vendor SDKs send it: the browser's
    btoa(encodeURIComponent(tenantId)) without a colon, Android's standard base64 of
    `tenantId:`, iOS's unpadded base64url of `tenantId:`."""
    padded = value + "=" * (-len(value) % 4)
    try:
        decoded = (
            urlsafe_b64decode(padded) if "-" in value or "_" in value else b64decode(padded)
        ).decode()
    except (binascii.Error, ValueError) as exc:
        raise TenantNotFound("the tenant id in the Basic credentials is not readable") from exc
    tenant_id, _, _password = unquote(decoded).partition(":")
    if not tenant_id:
        raise TenantNotFound("the Basic credentials name no tenant")
    return tenant_id
