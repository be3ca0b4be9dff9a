"""Which tenant a request reached, and the issuer URL it is known by there."""

from __future__ import annotations

from dataclasses import dataclass

from latchkey.api.context import AnyRequest, request_meta, runtime
from latchkey.models import Tenant
from latchkey.services import tenants
from latchkey.services.ratelimit import limit_anonymous


@dataclass(frozen=True)
class Site:
    """The tenant a request reached and the issuer URL it is known by there."""

    tenant: Tenant
    issuer: str


def site_of(request: AnyRequest) -> Site:
    """By path (/t/{tenantId}/...) or, at the root, by the Host a tenant claimed as its domain."""
    rt = runtime(request)
    tenant_id = request.path_params.get("tenant_id")
    if tenant_id:
        return Site(tenants.get(rt, tenant_id), f"{rt.public_url}/t/{tenant_id}/")
    host = request.headers.get("host") or ""
    hostname = host.rsplit(":", 1)[0].lower() if not host.endswith("]") else host
    tenant = tenants.for_domain(rt, hostname)
    # Custom domains are served over TLS (behind a proxy); plain http only for local testing.
    scheme = "http" if hostname in ("localhost", "127.0.0.1") else "https"
    return Site(tenant, f"{scheme}://{host}/")


def limit_caller(request: AnyRequest, site: Site, surface: str) -> None:
    """An endpoint that answers anyone and writes: counted per client IP and per tenant."""
    rt = runtime(request)
    limit_anonymous(
        rt.limiter,
        surface=surface,
        ip=request_meta(request).ip,
        tenant_id=site.tenant.id,
        per_ip=rt.challenge_rule,
        per_tenant=rt.tenant_rule,
    )
