"""/admin/v1/tenants/{tenantId}/apps: OAuth clients and their device settings (iOS team and
bundle, Android package and signing fingerprints)."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import delete, get, patch, post
from litestar.params import FromPath, JSONBody

from latchkey.api.admin import schemas
from latchkey.api.admin.auth import change, tenant_of
from latchkey.api.context import AnyRequest, runtime
from latchkey.errors import ConfigError
from latchkey.models import App
from latchkey.services import apps
from latchkey.services.runtime import Runtime


def _app(rt: Runtime, tenant_id: str, client_id: str) -> App:
    """The tenant's app; another tenant's client id is not found, as an unknown one is."""
    found = apps.get(rt, client_id)
    if found.tenant_id != tenant_id:
        raise apps.AppNotFound(f"no app {client_id!r}")
    return found


def _settings(data: schemas.AppSettings) -> dict[str, Any]:
    return {k: v for k, v in msgspec.structs.asdict(data).items() if v is not None}


@get("/tenants/{tenant_id:str}/apps", sync_to_thread=True)
def list_apps(tenant_id: FromPath[str], request: AnyRequest) -> list[schemas.AppOut]:
    _, tenant = tenant_of(request, tenant_id)
    return [schemas.AppOut.of(a) for a in apps.list_for(runtime(request), tenant.id)]


@post("/tenants/{tenant_id:str}/apps", sync_to_thread=True)
def create_app(
    tenant_id: FromPath[str], data: JSONBody[schemas.AppCreate], request: AnyRequest
) -> schemas.AppCreated:
    caller, tenant = tenant_of(request, tenant_id)
    settings = _settings(data)
    app_type, confidential = settings.pop("type"), settings.pop("confidential")
    name = settings.pop("name", None)
    if not name:
        raise ConfigError("name is required")
    with change(request, caller, "app.created", tenant.id) as done:
        made, secret = apps.create(
            done.rt, tenant.id, name=name, app_type=app_type, confidential=confidential, **settings
        )
        done.target, done.after = {"clientId": made.client_id}, schemas.AppOut.of(made)
    return schemas.AppCreated(app=done.after, client_secret=secret)


@get("/tenants/{tenant_id:str}/apps/{client_id:str}", sync_to_thread=True)
def get_app(
    tenant_id: FromPath[str], client_id: FromPath[str], request: AnyRequest
) -> schemas.AppOut:
    _, tenant = tenant_of(request, tenant_id)
    return schemas.AppOut.of(_app(runtime(request), tenant.id, client_id))


@patch("/tenants/{tenant_id:str}/apps/{client_id:str}", sync_to_thread=True)
def update_app(
    tenant_id: FromPath[str],
    client_id: FromPath[str],
    data: JSONBody[schemas.AppSettings],
    request: AnyRequest,
) -> schemas.AppOut:
    caller, tenant = tenant_of(request, tenant_id)
    with change(request, caller, "app.updated", tenant.id, clientId=client_id) as done:
        done.before = schemas.AppOut.of(_app(done.rt, tenant.id, client_id))
        done.after = schemas.AppOut.of(apps.update(done.rt, client_id, **_settings(data)))
    return done.after


@delete("/tenants/{tenant_id:str}/apps/{client_id:str}", sync_to_thread=True, status_code=200)
def delete_app(
    tenant_id: FromPath[str], client_id: FromPath[str], request: AnyRequest
) -> schemas.AppOut:
    caller, tenant = tenant_of(request, tenant_id)
    with change(request, caller, "app.deleted", tenant.id, clientId=client_id) as done:
        done.before = schemas.AppOut.of(_app(done.rt, tenant.id, client_id))
        apps.delete(done.rt, client_id)
    return done.before


handlers = [list_apps, create_app, get_app, update_app, delete_app]
