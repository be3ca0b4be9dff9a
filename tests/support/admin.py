"""The management API in tests: two tenants with a global operator token and one scoped to the
first, calls in event order, and the admin.* audit events a change wrote."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from litestar.testing import TestClient
from sqlalchemy import select

from latchkey.models import Tenant
from latchkey.runtime import Runtime
from latchkey.services import operators, tenants
from latchkey.store.tables import events
from tests.web_parties import ORIGIN

UA = {"user-agent": "admin-test/1.0"}


@dataclass
class World:
    client: TestClient
    rt: Runtime
    a: Tenant
    a_secret: str
    b: Tenant
    root: dict[str, str]  # a global operator's headers
    a_op: dict[str, str]  # tenant A's operator

    def call(self, method: str, path: str, who: dict[str, str], **kw: Any) -> Any:
        self.rt.clock.advance(milliseconds=1)  # type: ignore[attr-defined]  # events in order
        return self.client.request(method, "/admin/v1" + path, headers={**who, **UA}, **kw)


def bearer(secret: str) -> dict[str, str]:
    return {"authorization": f"Bearer {secret}"}


def make_world(rt: Runtime, client: TestClient, tenant_and_secret: tuple[Tenant, str]) -> World:
    """Tenants A and B, a global operator token and one scoped to A."""
    a, a_secret = tenant_and_secret
    b, _ = tenants.create(rt, rp_id="localhost", rp_name="Other", origins=[ORIGIN])
    _, root = operators.create_token(rt, name="root")
    _, scoped = operators.create_token(rt, name="a-ops", tenant_id=a.id)
    return World(client, rt, a, a_secret, b, bearer(root), bearer(scoped))


def admin_events(rt: Runtime, tenant_id: str) -> list[Any]:
    with rt.read() as conn:
        query = (
            select(events)
            .where(events.c.tenant_id == tenant_id, events.c.kind.startswith("admin."))
            .order_by(events.c.created_at, events.c.id)
        )
        return list(conn.execute(query))
