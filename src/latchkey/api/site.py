"""Which tenant a request reached, and the issuer URL it is known by there."""

from __future__ import annotations

from dataclasses import dataclass

from latchkey.api import hosts
from latchkey.api.context import AnyRequest, runtime
from latchkey.errors import TenantNotFound
from latchkey.models import Tenant
from latchkey.services import tenants


@dataclass(frozen=True)
class Site:
    """The tenant a request reached and the issuer URL it is known by there."""

    tenant: Tenant
    issuer: str


def site_of(request: AnyRequest) -> Site:
    """By path (/t/{tenantId}/...) or, at the root, by the Host naming one of a tenant's proved
    domains. The issuer is built from the public URL or from the stored domain, never from the
    header: only a local name (testing) keeps the port the client used."""
    rt = runtime(request)
    tenant_id = request.path_params.get("tenant_id")
    if tenant_id:
        return Site(tenants.get(rt, tenant_id), f"{rt.public_url}/t/{tenant_id}/")
    host = hosts.of(request.scope)
    if host is None:
        raise TenantNotFound("the request names no host")
    tenant = tenants.for_domain(rt, host.name)
    if host.is_local:
        port = f":{host.port}" if host.port else ""
        return Site(tenant, f"http://{host.name}{port}/")
    # Custom domains are served over TLS on the default port (behind a proxy).
    return Site(tenant, f"https://{host.name}/")
