"""Operators' changes as audit events: who (the operator), what (the change and its target),
before and after, where from (IP, user agent), written in the change's own transaction, so a
change is never without its event nor an event without its change."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import msgspec
from sqlalchemy import Connection

from latchkey.event_kinds import AUDIT_PREFIX
from latchkey.runtime import RequestMeta, Runtime
from latchkey.services import events
from latchkey.services.operators import Operator

log = logging.getLogger("latchkey.admin")


@dataclass
class Change:
    """One operator change in progress: call services with `rt` (bound to the change's
    transaction) and set `before` and `after` (JSON-able views, never secrets)."""

    rt: Runtime
    conn: Connection
    tenant_id: str | None
    target: dict[str, Any] = field(default_factory=dict)
    before: Any = None
    after: Any = None
    user_id: str | None = None


@contextmanager
def change(
    rt: Runtime,
    operator: Operator,
    meta: RequestMeta,
    *,
    kind: str,
    tenant_id: str | None,
    **target: Any,
) -> Iterator[Change]:
    """Run the body's service calls and the `admin.<kind>` event in one transaction. A change
    with no tenant (a global operator token) has no event log: it is logged, and the token row
    names its maker."""
    try:
        with rt.transaction() as conn:
            done = Change(rt.bound(conn), conn, tenant_id, target)
            yield done
            if done.tenant_id is not None:
                events.record(
                    conn,
                    rt,
                    tenant_id=done.tenant_id,
                    kind=AUDIT_PREFIX + kind,
                    meta=meta,
                    user_id=done.user_id,
                    detail=_detail(operator, done),
                )
    finally:
        # The bound runtime cached privately; the shared caches may now be stale.
        rt.clear_caches()
    log.info("operator %s (%s): %s %s", operator.id, operator.method, kind, done.target)


def _detail(operator: Operator, done: Change) -> dict[str, Any]:
    return {
        "actor": operator.as_actor(),
        "target": msgspec.to_builtins(done.target),
        "before": msgspec.to_builtins(done.before),
        "after": msgspec.to_builtins(done.after),
    }
