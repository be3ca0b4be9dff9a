"""Portal pages for a tenant's API keys (a new secret shown once, revoke) and token signing
keys (rotate), through the management API's handlers."""

from __future__ import annotations

from typing import Any

from litestar import Response, get, post
from litestar.params import FromPath

from latchkey.api.admin import keys as admin_keys
from latchkey.api.admin import schemas
from latchkey.api.admin import tenants as admin_tenants
from latchkey.api.context import AnyRequest
from latchkey.api.portal.http import (
    api,
    attempt,
    checked_form,
    convert,
    field,
    page,
    session,
    submit,
)
from latchkey.api.portal.signin import Form
from latchkey.services.signing_keys import ALGORITHMS


def api_keys_page(
    request: AnyRequest, tenant_id: str, status: int = 200, **values: Any
) -> Response[str]:
    tenant = api(admin_tenants.get_tenant, tenant_id=tenant_id, request=request)
    found = api(admin_keys.list_api_keys, tenant_id=tenant_id, request=request)
    return page(
        request, "api_keys.html", title="API keys", tenant=tenant, keys=found, status=status,
        **values,
    )  # fmt: skip


@get("/t/{tenant_id:str}/api-keys", sync_to_thread=True)
def api_keys(tenant_id: FromPath[str], request: AnyRequest) -> Response[str]:
    session(request)
    return api_keys_page(request, tenant_id)


@post("/t/{tenant_id:str}/api-keys", sync_to_thread=True, status_code=200)
def create_api_key(tenant_id: FromPath[str], data: Form, request: AnyRequest) -> Response[str]:
    checked_form(request, data)
    made, error, status = attempt(
        lambda: api(admin_keys.create_api_key, tenant_id=tenant_id, request=request)
    )
    # The secret is in this answer only: it is never stored, so never shown again.
    return api_keys_page(request, tenant_id, status, error=error, created=made)


@post("/t/{tenant_id:str}/api-keys/{key_id:str}/revoke", sync_to_thread=True, status_code=200)
def revoke_api_key(
    tenant_id: FromPath[str], key_id: FromPath[str], data: Form, request: AnyRequest
) -> Response[Any]:
    return submit(
        request,
        data,
        lambda: api(admin_keys.revoke_api_key, tenant_id=tenant_id, key_id=key_id, request=request),
        again=api_keys_page,
        tenant_id=tenant_id,
        done="api_key_revoked",
        to=f"/portal/t/{tenant_id}/api-keys",
    )


def signing_keys_page(
    request: AnyRequest, tenant_id: str, status: int = 200, **values: Any
) -> Response[str]:
    tenant = api(admin_tenants.get_tenant, tenant_id=tenant_id, request=request)
    found = api(admin_keys.list_signing_keys, tenant_id=tenant_id, request=request)
    return page(
        request, "signing_keys.html", title="Signing keys", tenant=tenant, keys=found,
        algorithms=ALGORITHMS, status=status, **values,
    )  # fmt: skip


@get("/t/{tenant_id:str}/signing-keys", sync_to_thread=True)
def signing_keys(tenant_id: FromPath[str], request: AnyRequest) -> Response[str]:
    session(request)
    return signing_keys_page(request, tenant_id)


@post("/t/{tenant_id:str}/signing-keys/rotate", sync_to_thread=True, status_code=200)
def rotate(tenant_id: FromPath[str], data: Form, request: AnyRequest) -> Response[Any]:
    def call() -> Any:
        body = convert({"alg": field(data, "alg", limit=10) or "ES256"}, schemas.RotateBody)
        return api(admin_keys.rotate_signing_key, tenant_id=tenant_id, data=body, request=request)

    to = f"/portal/t/{tenant_id}/signing-keys"
    return submit(
        request,
        data,
        call,
        again=signing_keys_page,
        tenant_id=tenant_id,
        done="signing_key_rotated",
        to=to,
    )


handlers = [api_keys, create_api_key, revoke_api_key, signing_keys, rotate]
