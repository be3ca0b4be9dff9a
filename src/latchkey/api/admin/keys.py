"""/admin/v1/tenants/{tenantId}/api-keys and /signing-keys: secret keys (the secret shown once,
then only a prefix; revocable) and token signing keys (listed, rotated)."""

from __future__ import annotations

from litestar import delete, get, post
from litestar.params import FromPath, JSONBody

from latchkey.api.admin import schemas
from latchkey.api.admin.auth import tenant_of, who
from latchkey.api.context import AnyRequest, runtime
from latchkey.services import api_keys, operator_changes, signing_keys, views


@get("/tenants/{tenant_id:str}/api-keys", sync_to_thread=True)
def list_api_keys(tenant_id: FromPath[str], request: AnyRequest) -> list[views.ApiKeyOut]:
    tenant = tenant_of(request, tenant_id)
    return [views.ApiKeyOut.of(k) for k in api_keys.list_for(runtime(request), tenant.id)]


@post("/tenants/{tenant_id:str}/api-keys", sync_to_thread=True)
def create_api_key(tenant_id: FromPath[str], request: AnyRequest) -> schemas.ApiKeyCreated:
    key, secret = operator_changes.create_api_key(runtime(request), who(request), tenant_id)
    return schemas.ApiKeyCreated(key=views.ApiKeyOut.of(key), secret=secret)


@delete("/tenants/{tenant_id:str}/api-keys/{key_id:str}", sync_to_thread=True, status_code=200)
def revoke_api_key(
    tenant_id: FromPath[str], key_id: FromPath[str], request: AnyRequest
) -> views.ApiKeyOut:
    revoked = operator_changes.revoke_api_key(runtime(request), who(request), tenant_id, key_id)
    return views.ApiKeyOut.of(revoked)


@get("/tenants/{tenant_id:str}/signing-keys", sync_to_thread=True)
def list_signing_keys(tenant_id: FromPath[str], request: AnyRequest) -> list[views.SigningKeyOut]:
    tenant = tenant_of(request, tenant_id)
    return [views.SigningKeyOut.of(k) for k in signing_keys.listed(runtime(request), tenant.id)]


@post("/tenants/{tenant_id:str}/signing-keys/rotate", sync_to_thread=True)
def rotate_signing_key(
    tenant_id: FromPath[str], data: JSONBody[schemas.RotateBody], request: AnyRequest
) -> list[views.SigningKeyOut]:
    """Retire the active key (still published until its tokens expire) and make a new one."""
    rt = runtime(request)
    operator_changes.rotate_signing_key(rt, who(request), tenant_id, data.alg)
    return [views.SigningKeyOut.of(k) for k in signing_keys.listed(rt, tenant_id)]


handlers = [list_api_keys, create_api_key, revoke_api_key, list_signing_keys, rotate_signing_key]
