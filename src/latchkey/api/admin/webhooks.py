"""/admin/v1/tenants/{tenantId}/webhooks: endpoints (the signing secret shown once, on creation
and rotation), a test event, the delivery log and manual redelivery (services/webhooks.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import msgspec
from litestar import delete, get, patch, post
from litestar.params import FromPath, JSONBody, QueryParameter

from latchkey.api.admin.auth import tenant_of, who
from latchkey.api.admin.schemas import Body, View
from latchkey.api.context import AnyRequest, runtime
from latchkey.services import operator_changes, webhooks
from latchkey.services.views import EndpointOut

BASE = "/tenants/{tenant_id:str}/webhooks"
ENDPOINT = BASE + "/{endpoint_id:str}"
DELIVERY = "/tenants/{tenant_id:str}/webhook-deliveries/{delivery_id:str}"
Types = Annotated[list[Annotated[str, msgspec.Meta(max_length=64)]], msgspec.Meta(max_length=50)]


class EndpointBody(Body):
    url: Annotated[str, msgspec.Meta(max_length=2048)] | None = None
    event_types: Types | None = None
    description: Annotated[str, msgspec.Meta(max_length=500)] | None = None
    enabled: bool | None = None


class EndpointWithSecret(msgspec.Struct, rename="camel", kw_only=True):
    endpoint: EndpointOut
    # Shown once: verify webhooks with it (X-Signature-V2).
    secret: str


class DeliveryOut(View):
    id: str
    endpoint_id: str
    event_id: str
    event_type: str
    redelivery_of: str | None
    state: str
    attempts: int
    next_attempt_at: datetime
    last_status: int | None
    last_error: str | None
    delivered_at: datetime | None
    created_at: datetime


class AttemptOut(View):
    attempt: int
    attempted_at: datetime
    status: int | None
    error: str | None
    duration_ms: int


@get(BASE, sync_to_thread=True)
def list_endpoints(tenant_id: FromPath[str], request: AnyRequest) -> list[EndpointOut]:
    tenant = tenant_of(request, tenant_id)
    return [EndpointOut.of(e) for e in webhooks.list_endpoints(runtime(request), tenant.id)]


@post(BASE, sync_to_thread=True)
def create_endpoint(
    tenant_id: FromPath[str], data: JSONBody[EndpointBody], request: AnyRequest
) -> EndpointWithSecret:
    made, secret = operator_changes.create_endpoint(
        runtime(request),
        who(request),
        tenant_id,
        url=data.url or "",
        event_types=data.event_types or (),
        description=data.description or "",
        enabled=data.enabled is not False,
    )
    return EndpointWithSecret(endpoint=EndpointOut.of(made), secret=secret)


@get(ENDPOINT, sync_to_thread=True)
def get_endpoint(
    tenant_id: FromPath[str], endpoint_id: FromPath[str], request: AnyRequest
) -> EndpointOut:
    tenant = tenant_of(request, tenant_id)
    return EndpointOut.of(webhooks.get_endpoint(runtime(request), tenant.id, endpoint_id))


@patch(ENDPOINT, sync_to_thread=True)
def update_endpoint(
    tenant_id: FromPath[str],
    endpoint_id: FromPath[str],
    data: JSONBody[EndpointBody],
    request: AnyRequest,
) -> EndpointOut:
    changed = operator_changes.update_endpoint(
        runtime(request),
        who(request),
        tenant_id,
        endpoint_id,
        url=data.url,
        event_types=data.event_types,
        description=data.description,
        enabled=data.enabled,
    )
    return EndpointOut.of(changed)


@delete(ENDPOINT, sync_to_thread=True, status_code=200)
def delete_endpoint(
    tenant_id: FromPath[str], endpoint_id: FromPath[str], request: AnyRequest
) -> EndpointOut:
    gone = operator_changes.delete_endpoint(runtime(request), who(request), tenant_id, endpoint_id)
    return EndpointOut.of(gone)


@post(ENDPOINT + "/rotate-secret", sync_to_thread=True, status_code=200)
def rotate_secret(
    tenant_id: FromPath[str], endpoint_id: FromPath[str], request: AnyRequest
) -> EndpointWithSecret:
    """A new secret (shown once); the previous one also signs for 24 hours."""
    rotated, secret = operator_changes.rotate_endpoint_secret(
        runtime(request), who(request), tenant_id, endpoint_id
    )
    return EndpointWithSecret(endpoint=EndpointOut.of(rotated), secret=secret)


@post(ENDPOINT + "/test", sync_to_thread=True, status_code=202)
def send_test(
    tenant_id: FromPath[str], endpoint_id: FromPath[str], request: AnyRequest
) -> DeliveryOut:
    tenant = tenant_of(request, tenant_id)
    return DeliveryOut.of(webhooks.send_test(runtime(request), tenant.id, endpoint_id))


@get("/tenants/{tenant_id:str}/webhook-deliveries", sync_to_thread=True)
def list_deliveries(
    tenant_id: FromPath[str],
    request: AnyRequest,
    endpoint_id: Annotated[str | None, QueryParameter(name="endpointId", max_length=36)] = None,
    delivery_state: Annotated[str | None, QueryParameter(name="state", max_length=16)] = None,
    limit: Annotated[int, QueryParameter(ge=1, le=500)] = 50,
) -> list[DeliveryOut]:
    tenant = tenant_of(request, tenant_id)
    found = webhooks.list_deliveries(
        runtime(request), tenant.id, endpoint_id=endpoint_id, state=delivery_state, limit=limit
    )
    return [DeliveryOut.of(d) for d in found]


@get(DELIVERY + "/attempts", sync_to_thread=True)
def list_attempts(
    tenant_id: FromPath[str], delivery_id: FromPath[str], request: AnyRequest
) -> list[AttemptOut]:
    tenant = tenant_of(request, tenant_id)
    found = webhooks.list_attempts(runtime(request), tenant.id, delivery_id)
    return [AttemptOut.of(a) for a in found]


@post(DELIVERY + "/redeliver", sync_to_thread=True, status_code=202)
def redeliver(
    tenant_id: FromPath[str], delivery_id: FromPath[str], request: AnyRequest
) -> DeliveryOut:
    queued = operator_changes.redeliver(runtime(request), who(request), tenant_id, delivery_id)
    return DeliveryOut.of(queued)


handlers = [
    list_endpoints,
    create_endpoint,
    get_endpoint,
    update_endpoint,
    delete_endpoint,
    rotate_secret,
    send_test,
    list_deliveries,
    list_attempts,
    redeliver,
]
