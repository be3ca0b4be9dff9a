"""/admin/v1/tenants/{tenantId}/directories and /pools: user directories (the identifiers
users sign up with) and, for each, the identity pool's hosted-page settings."""

from __future__ import annotations

from typing import Any

from litestar import get, patch, post
from litestar.params import FromPath, JSONBody

from latchkey.api.admin import schemas
from latchkey.api.admin.auth import change, tenant_of
from latchkey.api.context import AnyRequest, runtime
from latchkey.services import directories, pools


@get("/tenants/{tenant_id:str}/directories", sync_to_thread=True)
def list_directories(tenant_id: FromPath[str], request: AnyRequest) -> list[schemas.DirectoryOut]:
    _, tenant = tenant_of(request, tenant_id)
    found = directories.list_for(runtime(request), tenant.id)
    return [schemas.DirectoryOut.of(d) for d in found]


@post("/tenants/{tenant_id:str}/directories", sync_to_thread=True)
def create_directory(
    tenant_id: FromPath[str], data: JSONBody[schemas.DirectoryCreate], request: AnyRequest
) -> schemas.DirectoryOut:
    caller, tenant = tenant_of(request, tenant_id)
    with change(request, caller, "directory.created", tenant.id, name=data.name) as done:
        made = directories.create(done.rt, tenant.id, data.name, dict(data.identifiers))
        done.after = schemas.DirectoryOut.of(made)
    return done.after


@get("/tenants/{tenant_id:str}/directories/{name:str}", sync_to_thread=True)
def get_directory(
    tenant_id: FromPath[str], name: FromPath[str], request: AnyRequest
) -> schemas.DirectoryOut:
    _, tenant = tenant_of(request, tenant_id)
    return schemas.DirectoryOut.of(pools.get(runtime(request), tenant.id, name).directory)


@patch("/tenants/{tenant_id:str}/directories/{name:str}", sync_to_thread=True)
def update_directory(
    tenant_id: FromPath[str],
    name: FromPath[str],
    data: JSONBody[schemas.DirectoryUpdate],
    request: AnyRequest,
) -> schemas.DirectoryOut:
    caller, tenant = tenant_of(request, tenant_id)
    with change(request, caller, "directory.updated", tenant.id, name=name) as done:
        found = pools.get(done.rt, tenant.id, name).directory  # by id or name
        done.before = schemas.DirectoryOut.of(found)
        changed = directories.set_identifiers(
            done.rt, tenant.id, found.name, dict(data.identifiers)
        )
        done.after = schemas.DirectoryOut.of(changed)
    return done.after


@get("/tenants/{tenant_id:str}/pools/{pool:str}", sync_to_thread=True)
def get_pool(tenant_id: FromPath[str], pool: FromPath[str], request: AnyRequest) -> schemas.PoolOut:
    _, tenant = tenant_of(request, tenant_id)
    return schemas.PoolOut.of(pools.get(runtime(request), tenant.id, pool))


@patch("/tenants/{tenant_id:str}/pools/{pool:str}", sync_to_thread=True)
def configure_pool(
    tenant_id: FromPath[str],
    pool: FromPath[str],
    data: JSONBody[dict[str, Any]],
    request: AnyRequest,
) -> schemas.PoolOut:
    """Change some of the pool's settings (the others keep their values)."""
    caller, tenant = tenant_of(request, tenant_id)
    with change(request, caller, "pool.updated", tenant.id, pool=pool) as done:
        done.before = schemas.PoolOut.of(pools.get(done.rt, tenant.id, pool))
        done.after = schemas.PoolOut.of(pools.configure(done.rt, tenant.id, pool, data))
    return done.after


handlers = [
    list_directories,
    create_directory,
    get_directory,
    update_directory,
    get_pool,
    configure_pool,
]
