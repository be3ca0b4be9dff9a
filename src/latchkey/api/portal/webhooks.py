"""Portal pages for webhooks: endpoints (the signing secret shown once), pause or resume,
delete, send a test event, and the delivery log with each delivery's attempts and manual
redelivery, through the management API's handlers."""

from __future__ import annotations

from typing import Any

from litestar import Response, get, post
from litestar.params import FromPath

from latchkey.api.admin import tenants as admin_tenants
from latchkey.api.admin import webhooks as admin_webhooks
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

BASE = "/t/{tenant_id:str}/webhooks"
ENDPOINT = BASE + "/{endpoint_id:str}"


def webhooks_page(
    request: AnyRequest, tenant_id: str, status: int = 200, **values: Any
) -> Response[str]:
    tenant = api(admin_tenants.get_tenant, tenant_id=tenant_id, request=request)
    endpoints = api(admin_webhooks.list_endpoints, tenant_id=tenant_id, request=request)
    endpoint_id = (request.query_params.get("endpoint") or "")[:36] or None
    deliveries = api(
        admin_webhooks.list_deliveries,
        tenant_id=tenant_id,
        request=request,
        endpoint_id=endpoint_id,
        delivery_state=None,
        limit=50,
    )
    attempts_of = (request.query_params.get("delivery") or "")[:36] or None
    attempts = (
        api(
            admin_webhooks.list_attempts,
            tenant_id=tenant_id,
            delivery_id=attempts_of,
            request=request,
        )
        if attempts_of
        else None
    )
    return page(
        request, "webhooks.html", title="Webhooks", tenant=tenant, endpoints=endpoints,
        deliveries=deliveries, attempts=attempts, attempts_of=attempts_of, status=status,
        **values,
    )  # fmt: skip


@get(BASE, sync_to_thread=True)
def webhooks(tenant_id: FromPath[str], request: AnyRequest) -> Response[str]:
    session(request)
    return webhooks_page(request, tenant_id)


@post(BASE, sync_to_thread=True, status_code=200)
def create_endpoint(tenant_id: FromPath[str], data: Form, request: AnyRequest) -> Response[str]:
    checked_form(request, data)

    def call() -> Any:
        types = [t.strip() for t in field(data, "event_types").split(",") if t.strip()]
        body = {
            "url": field(data, "url", limit=2048),
            "eventTypes": types,
            "description": field(data, "description", limit=500),
        }
        return api(
            admin_webhooks.create_endpoint,
            tenant_id=tenant_id,
            data=convert(body, admin_webhooks.EndpointBody),
            request=request,
        )

    made, error, status = attempt(call)
    # The signing secret is in this answer only.
    return webhooks_page(request, tenant_id, status, error=error, created=made, form=data)


@post(ENDPOINT + "/toggle", sync_to_thread=True, status_code=200)
def toggle(
    tenant_id: FromPath[str], endpoint_id: FromPath[str], data: Form, request: AnyRequest
) -> Response[Any]:
    def call() -> Any:
        body = convert({"enabled": data.get("enabled") == "true"}, admin_webhooks.EndpointBody)
        return api(
            admin_webhooks.update_endpoint,
            tenant_id=tenant_id,
            endpoint_id=endpoint_id,
            data=body,
            request=request,
        )

    return submit(
        request, data, call, again=webhooks_page, tenant_id=tenant_id, done="webhook_updated"
    )


@post(ENDPOINT + "/delete", sync_to_thread=True, status_code=200)
def delete_endpoint(
    tenant_id: FromPath[str], endpoint_id: FromPath[str], data: Form, request: AnyRequest
) -> Response[Any]:
    def call() -> Any:
        return api(
            admin_webhooks.delete_endpoint,
            tenant_id=tenant_id,
            endpoint_id=endpoint_id,
            request=request,
        )

    return submit(
        request, data, call, again=webhooks_page, tenant_id=tenant_id, done="webhook_deleted"
    )


@post(
    "/t/{tenant_id:str}/webhook-deliveries/{delivery_id:str}/redeliver",
    sync_to_thread=True,
    status_code=200,
)
def redeliver(
    tenant_id: FromPath[str], delivery_id: FromPath[str], data: Form, request: AnyRequest
) -> Response[Any]:
    def call() -> Any:
        return api(
            admin_webhooks.redeliver, tenant_id=tenant_id, delivery_id=delivery_id, request=request
        )

    to = f"/portal/t/{tenant_id}/webhooks"
    return submit(
        request, data, call, again=webhooks_page, tenant_id=tenant_id, done="redelivered", to=to
    )


handlers = [webhooks, create_endpoint, toggle, delete_endpoint, redeliver]
