"""Portal pages for webhooks: endpoints (the signing secret shown once), pause or resume,
delete, send a test event, and the delivery log with each delivery's attempts and manual
redelivery; changes through services/operator_changes.py, as the management API's are."""

from __future__ import annotations

from typing import Any

from litestar import Response, get, post
from litestar.params import FromPath

from latchkey.api.admin.webhooks import AttemptOut, DeliveryOut, EndpointBody, EndpointWithSecret
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
from latchkey.services import operator_changes
from latchkey.services import webhooks as webhook_service
from latchkey.services.operator_changes import Who
from latchkey.services.views import EndpointOut

BASE = "/t/{tenant_id:str}/webhooks"
ENDPOINT = BASE + "/{endpoint_id:str}"


def webhooks_page(
    request: AnyRequest, tenant_id: str, status: int = 200, **values: Any
) -> Response[str]:
    shown, rt = tenant(request, tenant_id), runtime(request)
    endpoints = [EndpointOut.of(e) for e in webhook_service.list_endpoints(rt, shown.id)]
    endpoint_id = (request.query_params.get("endpoint") or "")[:36] or None
    found = webhook_service.list_deliveries(
        rt, shown.id, endpoint_id=endpoint_id, state=None, limit=50
    )
    deliveries = [DeliveryOut.of(d) for d in found]
    attempts_of = (request.query_params.get("delivery") or "")[:36] or None
    attempts = (
        [AttemptOut.of(a) for a in webhook_service.list_attempts(rt, shown.id, attempts_of)]
        if attempts_of
        else None
    )
    return page(
        request, "webhooks.html", title="Webhooks", tenant=shown, endpoints=endpoints,
        deliveries=deliveries, attempts=attempts, attempts_of=attempts_of, status=status,
        **values,
    )  # fmt: skip


@get(BASE, sync_to_thread=True)
def webhooks(tenant_id: FromPath[str], request: AnyRequest) -> Response[str]:
    session(request)
    return webhooks_page(request, tenant_id)


@post(BASE, sync_to_thread=True, status_code=200)
def create_endpoint(tenant_id: FromPath[str], data: Form, request: AnyRequest) -> Response[str]:
    who = checked_form(request, data)

    def call() -> EndpointWithSecret:
        types = [t.strip() for t in field(data, "event_types").split(",") if t.strip()]
        body = {
            "url": field(data, "url", limit=2048),
            "eventTypes": types,
            "description": field(data, "description", limit=500),
        }
        given = convert(body, EndpointBody)
        made, secret = operator_changes.create_endpoint(
            runtime(request),
            who,
            tenant_id,
            url=given.url or "",
            event_types=given.event_types or (),
            description=given.description or "",
        )
        return EndpointWithSecret(endpoint=EndpointOut.of(made), secret=secret)

    made, error, status = attempt(call)
    # The signing secret is in this answer only.
    return webhooks_page(request, tenant_id, status, error=error, created=made, form=data)


@post(ENDPOINT + "/toggle", sync_to_thread=True, status_code=200)
def toggle(
    tenant_id: FromPath[str], endpoint_id: FromPath[str], data: Form, request: AnyRequest
) -> Response[Any]:
    def call(who: Who) -> Any:
        enabled = data.get("enabled") == "true"
        return operator_changes.update_endpoint(
            runtime(request), who, tenant_id, endpoint_id, enabled=enabled
        )

    return submit(
        request, data, call, again=webhooks_page, tenant_id=tenant_id, done="webhook_updated"
    )


@post(ENDPOINT + "/delete", sync_to_thread=True, status_code=200)
def delete_endpoint(
    tenant_id: FromPath[str], endpoint_id: FromPath[str], data: Form, request: AnyRequest
) -> Response[Any]:
    def call(who: Who) -> Any:
        return operator_changes.delete_endpoint(runtime(request), who, tenant_id, endpoint_id)

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
    def call(who: Who) -> Any:
        return operator_changes.redeliver(runtime(request), who, tenant_id, delivery_id)

    to = f"/portal/t/{tenant_id}/webhooks"
    return submit(
        request, data, call, again=webhooks_page, tenant_id=tenant_id, done="redelivered", to=to
    )


handlers = [webhooks, create_endpoint, toggle, delete_endpoint, redeliver]
