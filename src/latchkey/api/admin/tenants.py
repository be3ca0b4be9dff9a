"""/admin/v1/tenants: the relying party (RP ID, name, origins), passkey policy, domains and
event retention, validated exactly as the CLI validates them (the same services)."""

from __future__ import annotations

from litestar import get, patch, post, put
from litestar.params import FromPath, JSONBody

from latchkey.api.admin import schemas
from latchkey.api.admin.auth import operator, tenant_of, who
from latchkey.api.context import AnyRequest, runtime
from latchkey.services import operator_changes, tenants, views


@get("/tenants", sync_to_thread=True)
def list_tenants(request: AnyRequest) -> list[views.TenantOut]:
    caller, rt = operator(request), runtime(request)
    return [views.tenant_view(rt, t) for t in tenants.list_all(rt) if caller.can_see(t.id)]


@post("/tenants", sync_to_thread=True)
def create_tenant(
    data: JSONBody[schemas.TenantCreate], request: AnyRequest
) -> schemas.TenantCreated:
    rt = runtime(request)
    tenant, secret = operator_changes.create_tenant(
        rt, who(request), **schemas.tenant_changes(data)
    )
    return schemas.TenantCreated(tenant=views.tenant_view(rt, tenant), secret_key=secret)


@get("/tenants/{tenant_id:str}", sync_to_thread=True)
def get_tenant(tenant_id: FromPath[str], request: AnyRequest) -> views.TenantOut:
    return views.tenant_view(runtime(request), tenant_of(request, tenant_id))


@patch("/tenants/{tenant_id:str}", sync_to_thread=True)
def update_tenant(
    tenant_id: FromPath[str], data: JSONBody[schemas.TenantUpdate], request: AnyRequest
) -> views.TenantOut:
    rt = runtime(request)
    changed = operator_changes.update_tenant(
        rt, who(request), tenant_id, **schemas.tenant_changes(data)
    )
    return views.tenant_view(rt, changed)


@put("/tenants/{tenant_id:str}/event-retention", sync_to_thread=True)
def set_event_retention(
    tenant_id: FromPath[str], data: JSONBody[schemas.RetentionBody], request: AnyRequest
) -> views.TenantOut:
    rt = runtime(request)
    changed = operator_changes.set_event_retention(rt, who(request), tenant_id, data.days)
    return views.tenant_view(rt, changed)


@put("/tenants/{tenant_id:str}/anonymous-actions", sync_to_thread=True)
def set_anonymous_actions(
    tenant_id: FromPath[str], data: JSONBody[schemas.AnonymousActionsBody], request: AnyRequest
) -> views.TenantOut:
    rt = runtime(request)
    changed = operator_changes.set_anonymous_actions(rt, who(request), tenant_id, data.names)
    return views.tenant_view(rt, changed)


handlers = [
    list_tenants,
    create_tenant,
    get_tenant,
    update_tenant,
    set_event_retention,
    set_anonymous_actions,
]
