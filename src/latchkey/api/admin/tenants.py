"""/admin/v1/tenants: the relying party (RP ID, name, origins), passkey policy, domains and
event retention, validated exactly as the CLI validates them (the same services)."""

from __future__ import annotations

from litestar import get, patch, post, put
from litestar.params import FromPath, JSONBody

from latchkey.api.admin import schemas
from latchkey.api.admin.auth import change, operator, tenant_of
from latchkey.api.context import AnyRequest, runtime
from latchkey.models import Tenant
from latchkey.services import action_names, domains, retention, tenants
from latchkey.services.runtime import Runtime
from latchkey.webauthn.policy import PasskeyPolicy


def _out(rt: Runtime, tenant: Tenant) -> schemas.TenantOut:
    return schemas.TenantOut.of(tenant, domains.statuses(rt, tenant.id))


@get("/tenants", sync_to_thread=True)
def list_tenants(request: AnyRequest) -> list[schemas.TenantOut]:
    caller, rt = operator(request), runtime(request)
    return [_out(rt, t) for t in tenants.list_all(rt) if caller.can_see(t.id)]


@post("/tenants", sync_to_thread=True)
def create_tenant(
    data: JSONBody[schemas.TenantCreate], request: AnyRequest
) -> schemas.TenantCreated:
    caller = operator(request)
    caller.require_global("create tenants")
    policy = PasskeyPolicy.from_dict(
        PasskeyPolicy().to_dict() | (data.policy.changes() if data.policy else {})
    )
    with change(request, caller, "tenant.created", None) as done:
        tenant, secret = tenants.create(
            done.rt,
            rp_id=data.rp_id,
            rp_name=data.rp_name,
            name=data.name,
            origins=data.origins,
            policy=policy,
            domains=data.domains,
            related_origins=data.related_origins,
        )
        done.tenant_id, done.target = tenant.id, {"tenantId": tenant.id}
        done.after = _out(done.rt, tenant)
    return schemas.TenantCreated(tenant=done.after, secret_key=secret)


@get("/tenants/{tenant_id:str}", sync_to_thread=True)
def get_tenant(tenant_id: FromPath[str], request: AnyRequest) -> schemas.TenantOut:
    _, tenant = tenant_of(request, tenant_id)
    return _out(runtime(request), tenant)


@patch("/tenants/{tenant_id:str}", sync_to_thread=True)
def update_tenant(
    tenant_id: FromPath[str], data: JSONBody[schemas.TenantUpdate], request: AnyRequest
) -> schemas.TenantOut:
    caller, tenant = tenant_of(request, tenant_id)
    with change(request, caller, "tenant.updated", tenant.id, tenantId=tenant.id) as done:
        done.before = _out(done.rt, tenants.get(done.rt, tenant.id))
        changed = tenants.update(
            done.rt,
            tenant.id,
            rp_id=data.rp_id,
            rp_name=data.rp_name,
            name=data.name,
            origins=data.origins,
            policy_changes=data.policy.changes() if data.policy else None,
            related_origins=data.related_origins,
            by=caller,
        )
        if data.domains is not None:
            tenants.set_domains(done.rt, tenant.id, data.domains, by=caller)
        done.after = _out(done.rt, changed)
    return done.after


@put("/tenants/{tenant_id:str}/event-retention", sync_to_thread=True)
def set_event_retention(
    tenant_id: FromPath[str], data: JSONBody[schemas.RetentionBody], request: AnyRequest
) -> schemas.TenantOut:
    caller, tenant = tenant_of(request, tenant_id)
    with change(request, caller, "event_retention.updated", tenant.id, tenantId=tenant.id) as done:
        done.before = {"days": tenant.event_retention_days}
        changed = retention.set_retention(done.rt, tenant.id, data.days)
        done.after = {"days": changed.event_retention_days}
    return _out(runtime(request), changed)


@put("/tenants/{tenant_id:str}/anonymous-actions", sync_to_thread=True)
def set_anonymous_actions(
    tenant_id: FromPath[str], data: JSONBody[schemas.AnonymousActionsBody], request: AnyRequest
) -> schemas.TenantOut:
    caller, tenant = tenant_of(request, tenant_id)
    with change(
        request, caller, "anonymous_actions.updated", tenant.id, tenantId=tenant.id
    ) as done:
        done.before = {"names": tenant.anonymous_actions}
        changed = action_names.set_anonymous_actions(done.rt, tenant.id, data.names)
        done.after = {"names": changed.anonymous_actions}
    return _out(runtime(request), changed)


handlers = [
    list_tenants,
    create_tenant,
    get_tenant,
    update_tenant,
    set_event_retention,
    set_anonymous_actions,
]
