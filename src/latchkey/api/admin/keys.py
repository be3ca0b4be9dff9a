"""/admin/v1/tenants/{tenantId}/api-keys and /signing-keys: secret keys (the secret shown once,
then only a prefix; revocable) and token signing keys (listed, rotated)."""

from __future__ import annotations

from litestar import delete, get, post
from litestar.params import FromPath, JSONBody

from latchkey.api.admin import schemas
from latchkey.api.admin.auth import change, tenant_of
from latchkey.api.context import AnyRequest, runtime
from latchkey.services import api_keys, signing_keys


@get("/tenants/{tenant_id:str}/api-keys", sync_to_thread=True)
def list_api_keys(tenant_id: FromPath[str], request: AnyRequest) -> list[schemas.ApiKeyOut]:
    _, tenant = tenant_of(request, tenant_id)
    return [schemas.ApiKeyOut.of(k) for k in api_keys.list_for(runtime(request), tenant.id)]


@post("/tenants/{tenant_id:str}/api-keys", sync_to_thread=True)
def create_api_key(tenant_id: FromPath[str], request: AnyRequest) -> schemas.ApiKeyCreated:
    caller, tenant = tenant_of(request, tenant_id)
    with change(request, caller, "api_key.created", tenant.id) as done:
        key, secret = api_keys.create(done.rt, tenant.id)
        done.target, done.after = {"keyId": key.id}, schemas.ApiKeyOut.of(key)
    return schemas.ApiKeyCreated(key=done.after, secret=secret)


@delete("/tenants/{tenant_id:str}/api-keys/{key_id:str}", sync_to_thread=True, status_code=200)
def revoke_api_key(
    tenant_id: FromPath[str], key_id: FromPath[str], request: AnyRequest
) -> schemas.ApiKeyOut:
    caller, tenant = tenant_of(request, tenant_id)
    with change(request, caller, "api_key.revoked", tenant.id, keyId=key_id) as done:
        done.after = schemas.ApiKeyOut.of(api_keys.revoke(done.rt, tenant.id, key_id))
    return done.after


@get("/tenants/{tenant_id:str}/signing-keys", sync_to_thread=True)
def list_signing_keys(tenant_id: FromPath[str], request: AnyRequest) -> list[schemas.SigningKeyOut]:
    _, tenant = tenant_of(request, tenant_id)
    return [schemas.SigningKeyOut.of(k) for k in signing_keys.listed(runtime(request), tenant.id)]


@post("/tenants/{tenant_id:str}/signing-keys/rotate", sync_to_thread=True)
def rotate_signing_key(
    tenant_id: FromPath[str], data: JSONBody[schemas.RotateBody], request: AnyRequest
) -> list[schemas.SigningKeyOut]:
    """Retire the active key (still published until its tokens expire) and make a new one."""
    caller, tenant = tenant_of(request, tenant_id)
    with change(request, caller, "signing_key.rotated", tenant.id) as done:
        done.before = [schemas.SigningKeyOut.of(k) for k in signing_keys.listed(done.rt, tenant.id)]
        kid = signing_keys.rotate(done.rt, tenant.id, data.alg)
        done.target = {"kid": kid, "alg": data.alg}
        done.after = [schemas.SigningKeyOut.of(k) for k in signing_keys.listed(done.rt, tenant.id)]
    return done.after


handlers = [list_api_keys, create_api_key, revoke_api_key, list_signing_keys, rotate_signing_key]
