"""Webhook endpoints through the management API (services/webhooks.py underneath): the secret
shown once, changes audited, the delivery log and redelivery, and tenant boundaries."""

from __future__ import annotations

import pytest
from litestar.testing import TestClient

from latchkey.models import Tenant
from latchkey.runtime import Runtime
from tests.support.admin import World, admin_events, make_world


@pytest.fixture
def world(rt: Runtime, client: TestClient, tenant_and_secret: tuple[Tenant, str]) -> World:
    return make_world(rt, client, tenant_and_secret)


def test_endpoints_deliveries_and_boundaries(world: World) -> None:
    base = f"/tenants/{world.a.id}/webhooks"
    body = {"url": "https://hooks.example.com/in", "eventTypes": ["passkey.*"]}
    made = world.call("POST", base, world.a_op, json=body)
    assert made.status_code == 201, made.text
    endpoint, secret = made.json()["endpoint"], made.json()["secret"]
    assert secret.startswith("whsec_")
    assert endpoint["secretPrefix"] == secret[:10]
    assert secret not in world.call("GET", base, world.a_op).text
    path = f"{base}/{endpoint['id']}"
    bad = world.call("PATCH", path, world.a_op, json={"url": "ftp://x"})
    assert bad.status_code == 400
    off = world.call("PATCH", path, world.a_op, json={"enabled": False})
    assert off.json()["enabled"] is False
    assert world.call("POST", path + "/test", world.a_op).status_code == 409
    world.call("PATCH", path, world.a_op, json={"enabled": True})
    queued = world.call("POST", path + "/test", world.a_op)
    assert queued.status_code == 202
    assert queued.json()["state"] == "pending"
    deliveries = f"/tenants/{world.a.id}/webhook-deliveries"
    (listed,) = world.call("GET", deliveries, world.a_op).json()
    assert listed["id"] == queued.json()["id"]
    assert world.call("GET", f"{deliveries}/{listed['id']}/attempts", world.a_op).json() == []
    again = world.call("POST", f"{deliveries}/{listed['id']}/redeliver", world.a_op)
    assert again.json()["redeliveryOf"] == listed["id"]
    rotated = world.call("POST", path + "/rotate-secret", world.a_op).json()
    assert rotated["secret"] != secret
    assert rotated["endpoint"]["previousSecretExpiresAt"]
    # Tenant B's operator sees none of it.
    b_op = world.call("POST", "/tokens", world.root, json={"name": "b", "tenantId": world.b.id})
    b = {"authorization": f"Bearer {b_op.json()['secret']}"}
    assert world.call("GET", path, b).status_code == 404
    assert (
        world.call("GET", f"/tenants/{world.b.id}/webhooks/{endpoint['id']}", b).status_code == 404
    )
    assert world.call("GET", base, b).status_code == 404
    assert world.call("DELETE", path, world.a_op).status_code == 200
    kinds = [e.kind for e in admin_events(world.rt, world.a.id)]
    assert kinds == [
        "admin.webhook_endpoint.created",
        "admin.webhook_endpoint.updated",
        "admin.webhook_endpoint.updated",
        "admin.webhook_delivery.redelivered",
        "admin.webhook_endpoint.secret_rotated",
        "admin.webhook_endpoint.deleted",
    ]
    assert secret not in str([e.detail for e in admin_events(world.rt, world.a.id)])
