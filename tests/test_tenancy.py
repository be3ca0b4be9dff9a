"""api/tenancy.py: each way a request names its tenant, and what each refuses."""

from __future__ import annotations

from base64 import b64encode, urlsafe_b64encode
from typing import Any

import pytest
from litestar import Litestar, Request

from latchkey.api import tenancy
from latchkey.api.context import AnyRequest
from latchkey.errors import InvalidApiKey, InvalidRequest, InvalidToken, TenantNotFound
from latchkey.models import Tenant
from latchkey.runtime import Runtime
from latchkey.services import actions, tenants
from tests.domain_proof import prove


def request_to(
    rt: Runtime,
    *,
    authorization: str | None = None,
    host: str | None = None,
    path_params: dict[str, Any] | None = None,
) -> AnyRequest:
    app = Litestar()
    app.state.runtime = rt
    headers = [(b"authorization", authorization.encode())] if authorization else []
    if host is not None:
        headers.append((b"host", host.encode()))
    scope: Any = {
        "type": "http",
        "method": "GET",
        "path": "/",
        "query_string": b"",
        "headers": headers,
        "path_params": path_params or {},
        "litestar_app": app,
        "app": app,
    }
    return Request(scope)


def basic(user: str) -> str:
    return "Basic " + b64encode(f"{user}:".encode()).decode()


def test_by_path(rt: Runtime, tenant_and_secret: tuple[Tenant, str]) -> None:
    tenant = tenant_and_secret[0]
    assert tenancy.by_path(request_to(rt, path_params={"tenant_id": tenant.id})) == tenant
    with pytest.raises(TenantNotFound, match="no tenant 'nobody'"):
        tenancy.by_path(request_to(rt, path_params={"tenant_id": "nobody"}))


def test_by_host_takes_a_proved_domain_only(rt: Runtime) -> None:
    tenant, _ = tenants.create(rt, rp_id="example.com", origins=["https://id.example.com"])
    tenants.set_domains(rt, tenant.id, ["id.example.com"])
    with pytest.raises(TenantNotFound, match=r"no tenant serves the domain 'id\.example\.com'"):
        tenancy.by_host(request_to(rt, host="id.example.com"))  # granted, not yet proved
    prove(rt, tenant.id, "id.example.com")
    found, host = tenancy.by_host(request_to(rt, host="ID.example.com.:8443"))
    assert (found.id, host.name, host.port) == (tenant.id, "id.example.com", 8443)
    with pytest.raises(TenantNotFound, match="the request names no host"):
        tenancy.by_host(request_to(rt))
    with pytest.raises(InvalidRequest, match="not a valid host name"):
        tenancy.by_host(request_to(rt, host="bad host"))


def test_by_secret_key(rt: Runtime, tenant_and_secret: tuple[Tenant, str]) -> None:
    tenant, secret = tenant_and_secret
    assert tenancy.by_secret_key(request_to(rt, authorization=basic(secret))) == tenant
    assert tenancy.by_secret_key(request_to(rt, authorization=f"Bearer {secret}")) == tenant
    assert tenancy.by_secret_key(request_to(rt, authorization=basic(secret)), tenant.id) == tenant
    other, _ = tenants.create(rt, rp_id="localhost", origins=["http://localhost:3000"])
    with pytest.raises(TenantNotFound, match=f"no tenant {other.id!r} for this key"):
        tenancy.by_secret_key(request_to(rt, authorization=basic(secret)), other.id)
    with pytest.raises(InvalidApiKey, match="send the tenant's secret key"):
        tenancy.by_secret_key(request_to(rt))
    with pytest.raises(InvalidApiKey):
        tenancy.by_secret_key(request_to(rt, authorization=basic("sk_not-a-key")))
    # The public tenant id is no secret key.
    with pytest.raises(InvalidApiKey):
        tenancy.by_secret_key(request_to(rt, authorization=basic(tenant.id)))


def test_by_client(rt: Runtime, tenant_and_secret: tuple[Tenant, str]) -> None:
    tenant = tenant_and_secret[0]
    assert tenancy.by_client(request_to(rt, authorization=basic(tenant.id))) == (tenant, None)
    tracked = actions.track(rt, tenant, external_user_id="ada", name="signIn", attributes={})
    found, token_action = tenancy.by_client(request_to(rt, authorization=f"Bearer {tracked.token}"))
    assert found == tenant
    assert token_action is not None
    assert (token_action[0].id, token_action[1].id) == (tracked.action.id, tracked.user.id)
    with pytest.raises(InvalidToken, match="the token is not valid"):
        tenancy.by_client(request_to(rt, authorization="Bearer not-a-token"))
    with pytest.raises(InvalidToken, match=r"send Bearer <token> or Basic base64\(tenantId\)"):
        tenancy.by_client(request_to(rt))
    with pytest.raises(TenantNotFound, match="no tenant 'nobody'"):
        tenancy.by_client(request_to(rt, authorization=basic("nobody")))


def test_basic_tenant_id_reads_every_sdk_form() -> None:
    assert tenancy.basic_tenant_id(b64encode(b"t%C3%A9").decode()) == "t\u00e9"  # browser
    assert tenancy.basic_tenant_id(b64encode(b"tenant-1:").decode()) == "tenant-1"  # Android
    ios = urlsafe_b64encode(b"tenant_1?:").decode().rstrip("=")
    assert tenancy.basic_tenant_id(ios) == "tenant_1?"
    with pytest.raises(TenantNotFound, match="is not readable"):
        tenancy.basic_tenant_id(b64encode(b"\xff\xfe").decode())  # not UTF-8
    with pytest.raises(TenantNotFound, match="name no tenant"):
        tenancy.basic_tenant_id(b64encode(b":secret").decode())
