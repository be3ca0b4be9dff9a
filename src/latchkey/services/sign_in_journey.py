"""What the passkey-adoption funnel needs to know about a hosted sign-in, beyond its outcome:
the page was loaded, how the user signed in (autofill, button, identifier-first, password,
recovery), how long it took from the page's load, and what became of the passkey offer shown
after a password sign-in.

How and when travel in the sign-in flow's context (written by the step that already writes
it: no extra row) and land in the sign-in event's detail. The page's own milestones (page
loaded, offer shown, offer declined) are events the page reports; an accepted offer is the
server's own event, written with the passkey it made.
"""

from __future__ import annotations

from typing import Any, Literal

from sqlalchemy import Connection

from latchkey import event_kinds as kinds
from latchkey.models import Flow
from latchkey.runtime import RequestMeta, Runtime
from latchkey.services import events

# The kinds this module writes (the catalogue, latchkey/event_kinds.py, describes them).
PAGE_LOADED = kinds.POOL_PAGE_LOADED
OFFER_SHOWN = kinds.POOL_PASSKEY_OFFER_SHOWN
OFFER_ACCEPTED = kinds.POOL_PASSKEY_OFFER_ACCEPTED
OFFER_DECLINED = kinds.POOL_PASSKEY_OFFER_DECLINED
KINDS = (PAGE_LOADED, OFFER_SHOWN, OFFER_ACCEPTED, OFFER_DECLINED)

# How a user signed in (the sign-in event's detail `method`).
AUTOFILL = "autofill"
BUTTON = "button"
IDENTIFIER = "identifier"
PASSWORD = "password"
RECOVERY = "recovery"
METHODS = (AUTOFILL, BUTTON, IDENTIFIER, PASSWORD, RECOVERY)
# What the page says it asked the browser for (identifier-first is known from the request).
PasskeyPrompt = Literal["autofill", "button"]
# What the page reports on its own (OFFER_ACCEPTED is the server's).
Milestone = Literal["page_loaded", "offer_shown", "offer_declined"]
MILESTONES: dict[str, str] = {
    "page_loaded": PAGE_LOADED,
    "offer_shown": OFFER_SHOWN,
    "offer_declined": OFFER_DECLINED,
}

# A page open longer than this is not a sign-in that took that long (the flow lives 15 min).
MAX_SINCE_LOAD_MS = 24 * 3600 * 1000
# The flow context's keys.
_METHOD = "journey_method"
_LOADED_AT = "journey_loaded_at_ms"
_OFFER = "journey_offer"


def _epoch_ms(rt: Runtime) -> int:
    return int(rt.now().timestamp() * 1000)


def context(
    rt: Runtime, *, method: str | None, since_load_ms: int | None, offer: bool = False
) -> dict[str, Any]:
    """The flow context a step adds: how the sign-in goes, and when its page was loaded (the
    page says how long ago; the server's clock turns it into a time, so the elapsed time is
    the server's own measure from there)."""
    found: dict[str, Any] = {}
    if method is not None:
        found[_METHOD] = method
    if since_load_ms is not None:
        found[_LOADED_AT] = _epoch_ms(rt) - min(max(since_load_ms, 0), MAX_SINCE_LOAD_MS)
    if offer:
        found[_OFFER] = True
    return found


def detail(rt: Runtime, flow_context: dict[str, Any]) -> dict[str, Any]:
    """The sign-in event's detail fields: its method, the milliseconds since the page's load."""
    found: dict[str, Any] = {}
    chosen = flow_context.get(_METHOD)
    if chosen in METHODS:
        found["method"] = chosen
    loaded = flow_context.get(_LOADED_AT)
    if isinstance(loaded, int):
        found["elapsed_ms"] = max(_epoch_ms(rt) - loaded, 0)
    return found


def from_offer(flow: Flow) -> bool:
    """Whether a passkey-adding flow was started by the offer after a password sign-in."""
    return bool(flow.context.get(_OFFER))


def record_offer_accepted(
    conn: Connection,
    rt: Runtime,
    *,
    flow: Flow,
    user_id: str,
    credential_id: str,
    meta: RequestMeta,
) -> None:
    """In the transaction that stores the offer's passkey: accepted means made."""
    events.record(
        conn,
        rt,
        tenant_id=flow.tenant_id,
        kind=OFFER_ACCEPTED,
        meta=meta,
        user_id=user_id,
        credential_id=credential_id,
        detail={"pool_id": flow.directory_id, "flow_id": flow.id},
    )


def record_milestone(
    rt: Runtime,
    *,
    tenant_id: str,
    pool_id: str,
    milestone: str,
    meta: RequestMeta,
    user_id: str | None = None,
    flow_id: str | None = None,
) -> None:
    detail = {"pool_id": pool_id, **({"flow_id": flow_id} if flow_id else {})}
    with rt.transaction() as conn:
        events.record(
            conn,
            rt,
            tenant_id=tenant_id,
            kind=MILESTONES[milestone],
            meta=meta,
            user_id=user_id,
            detail=detail,
        )
