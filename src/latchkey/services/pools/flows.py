"""Self-service flows (Kratos-style): stored state machines, bound to one browser by a cookie.

The cookie is `<flow id>.<secret>`; only the secret's SHA-256 is stored. Every transition names
the states it may leave, and the final one happens once: a finished flow cannot be replayed.

A hosted page's GET stores nothing (issue 21 item 8): it hands out a *pending* flow, whose id is
an HMAC of its cookie's secret (which holds its expiry and what it carries), and the flow's row
is written by the browser's first POST in it (`load(..., create=True)`). Only the server can
mint such an id, and an expired one can never be written.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError

from latchkey.errors import Forbidden, InvalidRequest
from latchkey.ids import new_token
from latchkey.models import Flow
from latchkey.runtime import Runtime
from latchkey.services import sealing
from latchkey.store import flows as flow_store

LOGIN = "login"
# An app's authorization request, parked for after the sign-in (oidc/authorize.py).
AUTHORIZATION = "authorization"
REGISTRATION = "registration"
RECOVERY = "recovery"
SETTINGS = "settings"
VERIFICATION = "verification"

# States. A flow starts `active`, waits on a ceremony, and ends `completed` exactly once.
ACTIVE = "active"
AWAITING_CREDENTIAL = "awaiting_credential"
COMPLETED = "completed"

LIFETIME = timedelta(minutes=15)

# What a page's pending flow takes over from the stored flow it carries from: where to return
# after, and the authorization request's sign-in hints (OIDC Core §3.1.2.1).
_CARRIED_KEYS = ("return_to", "login_hint", "ui_locales")


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
    flow_id: str | None = None,
) -> Started:
    """A stored flow (`flow_id`: one the caller chose, from `new_flow_id()`)."""
    now = rt.now()
    secret = new_token(32)
    flow = Flow(
        id=flow_id or new_flow_id(),
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


def new_flow_id() -> str:
    return new_token(18)


def carry_source(flow: Flow) -> str:
    """The flow a page's pending flow should carry from to continue `flow`: the flow `flow`
    itself carries from, when it was pending (a pending flow is nowhere to be found)."""
    return str(flow.context.get("carried_from") or flow.id)


def _pending_id(rt: Runtime, tenant_id: str, directory_id: str, secret: str) -> str:
    # Keyed per pool: a pending id minted for one pool names nothing in another.
    key = sealing.derive(rt.master_key, f"latchkey pending flow {tenant_id} {directory_id}")
    mac = hmac.new(key, secret.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac[:18]).decode()


def pending(
    rt: Runtime,
    *,
    tenant_id: str,
    directory_id: str,
    carry_from: str | None = None,
    lifetime: timedelta = LIFETIME,
) -> tuple[str, str]:
    """A page's flow id and cookie, stored nowhere yet. `carry_from`: a sign-in flow this
    browser holds whose return address the flow takes over when it is written."""
    expires = int((rt.now() + lifetime).timestamp())
    secret = f"{expires}~{carry_from or ''}~{new_token(24)}"
    flow_id = _pending_id(rt, tenant_id, directory_id, secret)
    return flow_id, f"{flow_id}.{secret}"


def _from_pending(
    conn: Connection,
    rt: Runtime,
    *,
    tenant_id: str,
    directory_id: str,
    kind: str,
    flow_id: str,
    secret: str,
) -> Flow | None:
    """The flow a pending cookie stands for, if the server minted it (not yet stored)."""
    parts = secret.split("~")
    if len(parts) != 3 or not parts[0].isdigit():
        return None
    if not hmac.compare_digest(_pending_id(rt, tenant_id, directory_id, secret), flow_id):
        return None
    now = rt.now()
    carried = flow_store.get(conn, flow_id=parts[1], tenant_id=tenant_id) if parts[1] else None
    open_carrier = (
        carried is not None
        and carried.directory_id == directory_id
        and carried.kind in (LOGIN, AUTHORIZATION)
        and carried.state != COMPLETED
        and carried.expires_at > now
    )
    context: dict[str, Any] = {}
    if carried is not None and open_carrier:
        context = {k: carried.context[k] for k in _CARRIED_KEYS if k in carried.context}
        context["carried_from"] = carried.id
    return Flow(
        id=flow_id,
        tenant_id=tenant_id,
        directory_id=directory_id,
        kind=kind,
        state=ACTIVE,
        cookie_hash=_digest(secret),
        user_id=None,
        context=context,
        created_at=now,
        expires_at=datetime.fromtimestamp(int(parts[0]), tz=UTC),
        updated_at=now,
    )


def _store_pending(conn: Connection, flow: Flow) -> Flow:
    """Write a pending flow's row; of two first POSTs racing, one writes, both go on."""
    try:
        with conn.begin_nested():
            flow_store.add(conn, flow)
    except IntegrityError:
        stored = flow_store.get(conn, flow_id=flow.id, tenant_id=flow.tenant_id)
        if stored is None:
            raise
        return stored
    return flow


def load(
    conn: Connection,
    rt: Runtime,
    *,
    tenant_id: str,
    directory_id: str,
    kind: str,
    cookie: str | None,
    flow_id: str | None = None,
    create: bool = False,
) -> Flow:
    """The flow this browser holds, checked against what the request says it continues. A
    pending flow (see above) is returned as it would be stored, and stored when `create`."""
    if not cookie or "." not in cookie or len(cookie) > 200:
        raise FlowCookieMissing("this browser holds no flow here; start again")
    cookie_flow, secret = cookie.split(".", 1)
    if flow_id is not None and flow_id != cookie_flow:
        raise FlowMismatch("this browser's flow is another one; start again")
    flow = flow_store.get(conn, flow_id=cookie_flow, tenant_id=tenant_id)
    if flow is None:
        flow = _from_pending(
            conn,
            rt,
            tenant_id=tenant_id,
            directory_id=directory_id,
            kind=kind,
            flow_id=cookie_flow,
            secret=secret,
        )
        if flow is not None and create and flow.expires_at > rt.now():
            flow = _store_pending(conn, flow)
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
