"""Self-service flows (Kratos-style): stored state machines, bound to one browser by a cookie.

The cookie is `<flow id>.<secret>`; only the secret's SHA-256 is stored. Every transition names
the states it may leave, and the final one happens once: a finished flow cannot be replayed.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any

from sqlalchemy import Connection

from latchkey.errors import Forbidden, InvalidRequest
from latchkey.ids import new_token
from latchkey.models import Flow
from latchkey.services.runtime import Runtime
from latchkey.store import flows as flow_store

LOGIN = "login"
REGISTRATION = "registration"
RECOVERY = "recovery"
SETTINGS = "settings"

# States. A flow starts `active`, waits on a ceremony, and ends `completed` exactly once.
ACTIVE = "active"
AWAITING_CREDENTIAL = "awaiting_credential"
COMPLETED = "completed"

LIFETIME = timedelta(minutes=15)


class FlowCookieMissing(Forbidden):
    code = "flow_cookie_missing"


class FlowMismatch(Forbidden):
    code = "flow_mismatch"


class FlowExpired(InvalidRequest):
    code = "flow_expired"
    status = 410


class FlowUsed(InvalidRequest):
    code = "flow_used"


@dataclass(frozen=True)
class Started:
    flow: Flow
    cookie: str


def _digest(secret: str) -> bytes:
    return hashlib.sha256(secret.encode()).digest()


def start(
    conn: Connection,
    rt: Runtime,
    *,
    tenant_id: str,
    directory_id: str,
    kind: str,
    context: dict[str, Any] | None = None,
    user_id: str | None = None,
    lifetime: timedelta = LIFETIME,
) -> Started:
    now = rt.now()
    secret = new_token(32)
    flow = Flow(
        id=new_token(18),
        tenant_id=tenant_id,
        directory_id=directory_id,
        kind=kind,
        state=ACTIVE,
        cookie_hash=_digest(secret),
        user_id=user_id,
        context=context or {},
        created_at=now,
        expires_at=now + lifetime,
        updated_at=now,
    )
    flow_store.add(conn, flow)
    return Started(flow, f"{flow.id}.{secret}")


def load(
    conn: Connection,
    rt: Runtime,
    *,
    tenant_id: str,
    directory_id: str,
    kind: str,
    cookie: str | None,
    flow_id: str | None = None,
) -> Flow:
    """The flow this browser holds, checked against what the request says it continues."""
    if not cookie or "." not in cookie or len(cookie) > 200:
        raise FlowCookieMissing("this browser holds no flow here; start again")
    cookie_flow, secret = cookie.split(".", 1)
    if flow_id is not None and flow_id != cookie_flow:
        raise FlowMismatch("this browser's flow is another one; start again")
    flow = flow_store.get(conn, flow_id=cookie_flow, tenant_id=tenant_id)
    if flow is None or not hmac.compare_digest(flow.cookie_hash, _digest(secret)):
        raise FlowMismatch("this browser's flow is unknown here; start again")
    if flow.directory_id != directory_id or flow.kind != kind:
        raise FlowMismatch(f"this browser's flow is not a {kind} flow of this pool")
    _check_open(rt, flow)
    return flow


def _check_open(rt: Runtime, flow: Flow) -> None:
    if flow.state == COMPLETED:
        raise FlowUsed("this flow is already finished; start again")
    if flow.expires_at <= rt.now():
        raise FlowExpired("this flow has expired; start again")


def advance(
    conn: Connection,
    rt: Runtime,
    flow: Flow,
    *,
    from_states: tuple[str, ...],
    to_state: str,
    context: dict[str, Any] | None = None,
    user_id: str | None = None,
) -> Flow:
    """Move the flow on, or explain why it cannot move (finished, expired, raced)."""
    merged = {**flow.context, **(context or {})}
    owner = user_id if user_id is not None else flow.user_id
    moved = flow_store.transition(
        conn,
        flow_id=flow.id,
        from_states=from_states,
        to_state=to_state,
        now=rt.now(),
        context=merged,
        user_id=owner,
    )
    if not moved:
        current = flow_store.get(conn, flow_id=flow.id, tenant_id=flow.tenant_id) or flow
        _check_open(rt, current)
        raise FlowUsed(f"this flow cannot go from {current.state} to {to_state}")
    return replace(flow, state=to_state, context=merged, user_id=owner, updated_at=rt.now())
