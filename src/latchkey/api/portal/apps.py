"""Portal pages for apps (OAuth clients and their device settings, with a preview of the
generated apple-app-site-association and assetlinks.json)."""

from __future__ import annotations

import json
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
    lines,
    page,
    session,
    submit,
    tenant,
)
from latchkey.api.portal.signin import Form
from latchkey.services import apps, association, operator_changes, views
from latchkey.services.apps import APP_TYPES

DEVICE_FIELDS = {
    "ios_team_id": "iosTeamId",
    "ios_bundle_id": "iosBundleId",
    "android_package": "androidPackage",
}


def apps_page(
    request: AnyRequest, tenant_id: str, status: int = 200, **values: Any
) -> Response[str]:
    shown = tenant(request, tenant_id)
    models = apps.list_for(runtime(request), shown.id)
    listed = [views.AppOut.of(a, shown.rp_id) for a in models]
    preview = {
        "apple-app-site-association": association.apple_app_site_association(models),
        "assetlinks.json": association.asset_links(models),
    }
    return page(
        request, "apps.html", title="Apps", tenant=shown, apps=listed, app_types=APP_TYPES,
        preview={name: json.dumps(doc, indent=2) for name, doc in preview.items()},
        status=status, **values,
    )  # fmt: skip


@get("/t/{tenant_id:str}/apps", sync_to_thread=True)
def app_list(tenant_id: FromPath[str], request: AnyRequest) -> Response[str]:
    session(request)
    return apps_page(request, tenant_id)


def _app_body(data: dict[str, Any]) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": field(data, "name", limit=200),
        "type": field(data, "type", limit=20) or "native",
        "confidential": data.get("confidential") == "on",
        "redirectUris": lines(data, "redirect_uris"),
        "androidFingerprints": lines(data, "android_fingerprints"),
    }
    for name, wire in DEVICE_FIELDS.items():
        if value := field(data, name, limit=200):
            body[wire] = value
    return body


@post("/t/{tenant_id:str}/apps", sync_to_thread=True, status_code=200)
def create_app(tenant_id: FromPath[str], data: Form, request: AnyRequest) -> Response[str]:
    who = checked_form(request, data)

    def create() -> schemas.AppCreated:
        settings = convert(_app_body(data), schemas.AppCreate).settings()
        made, secret = operator_changes.create_app(
            runtime(request), who, tenant_id,
            name=settings.pop("name", None), app_type=settings.pop("type"),
            confidential=settings.pop("confidential"), **settings,
        )  # fmt: skip
        return schemas.AppCreated(app=views.app_view(runtime(request), made), client_secret=secret)

    made, error, status = attempt(create)
    if error:
        return apps_page(request, tenant_id, status, error=error, form=data)
    return apps_page(request, tenant_id, created=made)


@post("/t/{tenant_id:str}/apps/{client_id:str}/delete", sync_to_thread=True, status_code=200)
def delete_app(
    tenant_id: FromPath[str], client_id: FromPath[str], data: Form, request: AnyRequest
) -> Response[Any]:
    return submit(
        request,
        data,
        lambda who: operator_changes.delete_app(runtime(request), who, tenant_id, client_id),
        again=apps_page,
        tenant_id=tenant_id,
        done="app_deleted",
        to=f"/portal/t/{tenant_id}/apps",
    )


handlers = [
    app_list,
    create_app,
    delete_app,
]
