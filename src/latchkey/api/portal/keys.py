"""Portal pages for a tenant's API keys (a new secret shown once, revoke) and token signing
keys (rotate), each an operator's change (services/operator_changes.py)."""

from __future__ import annotations

from typing import Any

from litestar import Response, get, post
from litestar.params import FromPath

from latchkey.api.admin import schemas
from latchkey.api.context import AnyRequest, runtime
from latchkey.api.portal.http import (
    attempt,
    checked_form,
    convert,
    field,
    page,
    session,
    submit,
    tenant,
)
from latchkey.api.portal.signin import Form
from latchkey.services import api_keys as key_service
from latchkey.services import operator_changes, views
from latchkey.services import signing_keys as signing_service
from latchkey.services.operator_changes import Who
from latchkey.services.signing_keys import ALGORITHMS


def api_keys_page(
    request: AnyRequest, tenant_id: str, status: int = 200, **values: Any
) -> Response[str]:
    shown = tenant(request, tenant_id)
    found = [views.ApiKeyOut.of(k) for k in key_service.list_for(runtime(request), shown.id)]
    return page(
        request, "api_keys.html", title="API keys", tenant=shown, keys=found, status=status,
        **values,
    )  # fmt: skip


@get("/t/{tenant_id:str}/api-keys", sync_to_thread=True)
def api_keys(tenant_id: FromPath[str], request: AnyRequest) -> Response[str]:
    session(request)
    return api_keys_page(request, tenant_id)


@post("/t/{tenant_id:str}/api-keys", sync_to_thread=True, status_code=200)
def create_api_key(tenant_id: FromPath[str], data: Form, request: AnyRequest) -> Response[str]:
    who = checked_form(request, data)

    def create() -> schemas.ApiKeyCreated:
        key, secret = operator_changes.create_api_key(runtime(request), who, tenant_id)
        return schemas.ApiKeyCreated(key=views.ApiKeyOut.of(key), secret=secret)

    made, error, status = attempt(create)
    # The secret is in this answer only: it is never stored, so never shown again.
    return api_keys_page(request, tenant_id, status, error=error, created=made)


@post("/t/{tenant_id:str}/api-keys/{key_id:str}/revoke", sync_to_thread=True, status_code=200)
def revoke_api_key(
    tenant_id: FromPath[str], key_id: FromPath[str], data: Form, request: AnyRequest
) -> Response[Any]:
    return submit(
        request,
        data,
        lambda who: operator_changes.revoke_api_key(runtime(request), who, tenant_id, key_id),
        again=api_keys_page,
        tenant_id=tenant_id,
        done="api_key_revoked",
        to=f"/portal/t/{tenant_id}/api-keys",
    )


def signing_keys_page(
    request: AnyRequest, tenant_id: str, status: int = 200, **values: Any
) -> Response[str]:
    shown = tenant(request, tenant_id)
    found = [views.SigningKeyOut.of(k) for k in signing_service.listed(runtime(request), shown.id)]
    return page(
        request, "signing_keys.html", title="Signing keys", tenant=shown, keys=found,
        algorithms=ALGORITHMS, status=status, **values,
    )  # fmt: skip


@get("/t/{tenant_id:str}/signing-keys", sync_to_thread=True)
def signing_keys(tenant_id: FromPath[str], request: AnyRequest) -> Response[str]:
    session(request)
    return signing_keys_page(request, tenant_id)


@post("/t/{tenant_id:str}/signing-keys/rotate", sync_to_thread=True, status_code=200)
def rotate(tenant_id: FromPath[str], data: Form, request: AnyRequest) -> Response[Any]:
    def call(who: Who) -> Any:
        body = convert({"alg": field(data, "alg", limit=10) or "ES256"}, schemas.RotateBody)
        return operator_changes.rotate_signing_key(runtime(request), who, tenant_id, body.alg)

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
