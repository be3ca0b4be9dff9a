"""/admin/v1/tenants/{tenantId}/directories and /pools: user directories (the identifiers
users sign up with) and, for each, the identity pool's hosted-page settings."""

from __future__ import annotations

from typing import Any

from litestar import get, patch, post
from litestar.params import FromPath, JSONBody

from latchkey.api.admin import schemas
from latchkey.api.admin.auth import tenant_of, who
from latchkey.api.context import AnyRequest, runtime
from latchkey.services import directories, operator_changes, pools, views


@get("/tenants/{tenant_id:str}/directories", sync_to_thread=True)
def list_directories(tenant_id: FromPath[str], request: AnyRequest) -> list[views.DirectoryOut]:
    tenant = tenant_of(request, tenant_id)
    found = directories.list_for(runtime(request), tenant.id)
    return [views.DirectoryOut.of(d) for d in found]


@post("/tenants/{tenant_id:str}/directories", sync_to_thread=True)
def create_directory(
    tenant_id: FromPath[str], data: JSONBody[schemas.DirectoryCreate], request: AnyRequest
) -> views.DirectoryOut:
    made = operator_changes.create_directory(
        runtime(request), who(request), tenant_id, data.name, dict(data.identifiers)
    )
    return views.DirectoryOut.of(made)


@get("/tenants/{tenant_id:str}/directories/{name:str}", sync_to_thread=True)
def get_directory(
    tenant_id: FromPath[str], name: FromPath[str], request: AnyRequest
) -> views.DirectoryOut:
    tenant = tenant_of(request, tenant_id)
    return views.DirectoryOut.of(pools.get(runtime(request), tenant.id, name).directory)


@patch("/tenants/{tenant_id:str}/directories/{name:str}", sync_to_thread=True)
def update_directory(
    tenant_id: FromPath[str],
    name: FromPath[str],
    data: JSONBody[schemas.DirectoryUpdate],
    request: AnyRequest,
) -> views.DirectoryOut:
    changed = operator_changes.update_directory(
        runtime(request), who(request), tenant_id, name, dict(data.identifiers)
    )
    return views.DirectoryOut.of(changed)


@get("/tenants/{tenant_id:str}/pools/{pool:str}", sync_to_thread=True)
def get_pool(tenant_id: FromPath[str], pool: FromPath[str], request: AnyRequest) -> views.PoolOut:
    tenant = tenant_of(request, tenant_id)
    return views.PoolOut.of(pools.get(runtime(request), tenant.id, pool))


@patch("/tenants/{tenant_id:str}/pools/{pool:str}", sync_to_thread=True)
def configure_pool(
    tenant_id: FromPath[str],
    pool: FromPath[str],
    data: JSONBody[dict[str, Any]],
    request: AnyRequest,
) -> views.PoolOut:
    """Change some of the pool's settings (the others keep their values)."""
    changed = operator_changes.configure_pool(runtime(request), who(request), tenant_id, pool, data)
    return views.PoolOut.of(changed)


handlers = [
    list_directories,
    create_directory,
    get_directory,
    update_directory,
    get_pool,
    configure_pool,
]
