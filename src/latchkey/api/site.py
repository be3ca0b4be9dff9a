"""Which tenant a request reached, and the issuer URL it is known by there."""

from __future__ import annotations

from dataclasses import dataclass

from latchkey.api import tenancy
from latchkey.api.context import AnyRequest, runtime
from latchkey.models import Tenant


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
        return Site(tenancy.by_path(request), f"{rt.public_url}/t/{tenant_id}/")
    tenant, host = tenancy.by_host(request)
    if host.is_local:
        port = f":{host.port}" if host.port else ""
        return Site(tenant, f"http://{host.name}{port}/")
    # Custom domains are served over TLS on the default port (behind a proxy).
    return Site(tenant, f"https://{host.name}/")
