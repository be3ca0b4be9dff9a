"""/admin/v1/tenants/{tenantId}/apps: OAuth clients and their device settings (iOS team and
bundle, Android package and signing fingerprints)."""

from __future__ import annotations

from litestar import delete, get, patch, post
from litestar.params import FromPath, JSONBody

from latchkey.api.admin import schemas
from latchkey.api.admin.auth import tenant_of, who
from latchkey.api.context import AnyRequest, runtime
from latchkey.services import apps, operator_changes, views


@get("/tenants/{tenant_id:str}/apps", sync_to_thread=True)
def list_apps(tenant_id: FromPath[str], request: AnyRequest) -> list[views.AppOut]:
    tenant = tenant_of(request, tenant_id)
    return [views.AppOut.of(a, tenant.rp_id) for a in apps.list_for(runtime(request), tenant.id)]


@post("/tenants/{tenant_id:str}/apps", sync_to_thread=True)
def create_app(
    tenant_id: FromPath[str], data: JSONBody[schemas.AppCreate], request: AnyRequest
) -> schemas.AppCreated:
    settings = data.settings()
    app_type, confidential = settings.pop("type"), settings.pop("confidential")
    made, secret = operator_changes.create_app(
        runtime(request),
        who(request),
        tenant_id,
        name=settings.pop("name", None),
        app_type=app_type,
        confidential=confidential,
        **settings,
    )
    return schemas.AppCreated(app=views.app_view(runtime(request), made), client_secret=secret)


@get("/tenants/{tenant_id:str}/apps/{client_id:str}", sync_to_thread=True)
def get_app(
    tenant_id: FromPath[str], client_id: FromPath[str], request: AnyRequest
) -> views.AppOut:
    return views.app_view(
        runtime(request), operator_changes.app(runtime(request), who(request), tenant_id, client_id)
    )


@patch("/tenants/{tenant_id:str}/apps/{client_id:str}", sync_to_thread=True)
def update_app(
    tenant_id: FromPath[str],
    client_id: FromPath[str],
    data: JSONBody[schemas.AppSettings],
    request: AnyRequest,
) -> views.AppOut:
    changed = operator_changes.update_app(
        runtime(request), who(request), tenant_id, client_id, **data.settings()
    )
    return views.app_view(runtime(request), changed)


@delete("/tenants/{tenant_id:str}/apps/{client_id:str}", sync_to_thread=True, status_code=200)
def delete_app(
    tenant_id: FromPath[str], client_id: FromPath[str], request: AnyRequest
) -> views.AppOut:
    gone = operator_changes.delete_app(runtime(request), who(request), tenant_id, client_id)
    return views.app_view(runtime(request), gone)


handlers = [list_apps, create_app, get_app, update_app, delete_app]
