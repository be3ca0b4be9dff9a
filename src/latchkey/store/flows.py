"""Flow rows: a state machine per row, each transition one conditional UPDATE."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select, update

from latchkey.models import Flow
from latchkey.store.tables import flows


def _record(row: Any) -> Flow:
    return Flow(**{c.name: row._mapping[c.name] for c in flows.c})


def add(conn: Connection, flow: Flow) -> None:
    conn.execute(insert(flows).values(**asdict(flow)))


def get(conn: Connection, *, flow_id: str, tenant_id: str) -> Flow | None:
    query = select(flows).where(flows.c.id == flow_id, flows.c.tenant_id == tenant_id)
    row = conn.execute(query).first()
    return _record(row) if row else None


def transition(
    conn: Connection,
    *,
    flow_id: str,
    from_states: Iterable[str],
    to_state: str,
    now: datetime,
    context: dict[str, Any],
    user_id: str | None,
) -> bool:
    """Move an unexpired flow from one of `from_states` to `to_state`. Of concurrent callers
    exactly one sees True: the WHERE clause is the guard."""
    result = conn.execute(
        update(flows)
        .where(
            flows.c.id == flow_id,
            flows.c.state.in_(list(from_states)),
            flows.c.expires_at > now,
        )
        .values(state=to_state, context=context, user_id=user_id, updated_at=now)
    )
    return result.rowcount == 1
