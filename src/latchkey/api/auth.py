"""Resolving the calling tenant from its secret key (HTTP Basic user name, or Bearer)."""

from __future__ import annotations

from base64 import b64decode

from latchkey.api.context import AnyRequest, runtime
from latchkey.errors import InvalidApiKey, TenantNotFound
from latchkey.models import Tenant
from latchkey.services import api_keys, tenants


def basic_pair(value: str) -> tuple[str, str]:
    """User name and password of HTTP Basic credentials (strict base64); ValueError if not."""
    user, _, password = b64decode(value.strip(), validate=True).decode().partition(":")
    return user, password


def secret_from_header(header: str | None) -> str:
    """`Basic base64(secret:)` (the secret as user name, empty password) or `Bearer secret`."""
    if not header:
        raise InvalidApiKey("send the tenant's secret key as HTTP Basic user name")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer":
        return value.strip()
    if scheme.lower() == "basic":
        try:
            user, _password = basic_pair(value)
        except ValueError as exc:
            raise InvalidApiKey("the Basic credentials are not valid base64") from exc
        return user
    raise InvalidApiKey("use HTTP Basic or Bearer authentication with the secret key")


def tenant_for_request(request: AnyRequest, tenant_id: str) -> Tenant:
    """The path's tenant, when the secret key is that tenant's. Another tenant is not found."""
    tenant = secret_tenant(request)
    if tenant.id != tenant_id:
        raise TenantNotFound(f"no tenant {tenant_id!r} for this key")
    return tenant


def secret_tenant(request: AnyRequest) -> Tenant:
    """The tenant whose secret key the request carries (the /v1 server API has no tenant id)."""
    rt = runtime(request)
    tenant_id = api_keys.tenant_for_secret(
        rt, secret_from_header(request.headers.get("authorization"))
    )
    return tenants.get(rt, tenant_id)
