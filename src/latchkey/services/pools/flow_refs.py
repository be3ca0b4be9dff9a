"""A pool's browser flow as each step finds it: the cookie and flow id the browser presents, the
flow they name, or a new one for an API caller (the flows themselves: services/pools/flows.py)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection

from latchkey.models import Flow, Tenant
from latchkey.runtime import Runtime
from latchkey.services.pools import Pool, flows


@dataclass(frozen=True)
class FlowRef:
    """What the browser presents: the flow cookie and, from the page, the flow it continues."""

    cookie: str | None
    flow_id: str | None = None


def load_flow(
    conn: Connection,
    rt: Runtime,
    tenant: Tenant,
    pool: Pool,
    kind: str,
    ref: FlowRef,
    *,
    create: bool = False,
) -> Flow:
    """The browser's flow of this kind in this pool, checked against the page's flow id (a
    page's pending flow stored now when `create`)."""
    return flows.load(
        conn,
        rt,
        tenant_id=tenant.id,
        directory_id=pool.id,
        kind=kind,
        cookie=ref.cookie,
        flow_id=ref.flow_id,
        create=create,
    )


def flow_for(
    conn: Connection, rt: Runtime, tenant: Tenant, pool: Pool, kind: str, ref: FlowRef | None
) -> tuple[Flow, str | None]:
    """The flow a page continues (flow id + cookie), or a new one for an API caller."""
    if ref is not None and ref.flow_id is not None:
        return load_flow(conn, rt, tenant, pool, kind, ref, create=True), None
    started = flows.start(conn, rt, tenant_id=tenant.id, directory_id=pool.id, kind=kind)
    return started.flow, started.cookie
