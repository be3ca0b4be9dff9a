"""The payload and its signature, exactly as Authsignal's server SDKs verify them.

Their verifiers (`webhook.constructEvent(payload, signature, tolerance)` in @authsignal/node,
`construct_event` in the Python SDK) read the `X-Signature-V2` header as comma-separated
`key=value` items: `t=<unix seconds>` and one or more `v2=<signature>`, where a signature is the
base64 HMAC-SHA256, keyed with the secret's UTF-8 bytes, of `"<t>.<raw body>"`, without its `=`
padding. The event is accepted when any v2 value matches (so a rotated secret and its successor
can both sign for a while) and `t` is no older than the tolerance (5 minutes by default). `t` is
therefore the time of each attempt, and a retry is signed afresh.

The body is compact JSON with only ASCII characters (non-ASCII escaped), so the bytes signed are
the same whichever text encoding a receiver decodes the body with.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from latchkey.models import Event

HEADER = "X-Signature-V2"
VERSION = 1
DEFAULT_TOLERANCE_SECONDS = 300


class InvalidSignature(ValueError):
    """The header is malformed, too old, or no signature in it matches."""


def _time(moment: datetime) -> str:
    """ISO 8601 in UTC with milliseconds, as the vendor sends it: 2025-02-20T01:51:56.070Z."""
    utc = moment.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def envelope(
    *, event_type: str, event_id: str, tenant_id: str, source: str, time: datetime, data: Any
) -> str:
    """The JSON body `{version, type, id, source, time, tenantId, data}`."""
    body = {
        "version": VERSION,
        "type": event_type,
        "id": event_id,
        "source": source,
        "time": _time(time),
        "tenantId": tenant_id,
        "data": data,
    }
    return json.dumps(body, separators=(",", ":"), ensure_ascii=True)


def event_payload(event: Event, *, source: str, app_user_id: str | None) -> str:
    """An event's body; `id` is the event's, the same on every retry and redelivery, so a
    receiver can recognise one it has already handled. `userId` is the app's id of the user
    (the one the backend tracked, as the vendor sends it); Latchkey's own is `latchkeyUserId`."""
    data = {
        "kind": event.kind,
        "outcome": event.outcome,
        "reason": event.reason,
        "userId": app_user_id,
        "latchkeyUserId": event.user_id,
        "credentialId": event.credential_id,
        "ip": event.ip,
        "userAgent": event.user_agent,
        "detail": _camel_keys(event.detail),
    }
    return envelope(
        event_type=event.kind,
        event_id=event.id,
        tenant_id=event.tenant_id,
        source=source,
        time=event.created_at,
        data=data,
    )


def _camel_keys(value: Any) -> Any:
    """The detail's keys in the payload's camelCase (pool_id: poolId), at every depth."""
    if isinstance(value, dict):
        return {_camel(str(k)): _camel_keys(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_camel_keys(v) for v in value]
    return value


def _camel(key: str) -> str:
    head, *rest = key.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """One v2 signature: unpadded base64 of HMAC-SHA256(secret, "<t>.<body>")."""
    mac = hmac.new(secret.encode("utf-8"), f"{timestamp}.".encode() + body, hashlib.sha256)
    return base64.b64encode(mac.digest()).decode("ascii").rstrip("=")


def signature_header(secrets: Sequence[str], timestamp: int, body: bytes) -> str:
    """`t=<t>,v2=<sig>[,v2=<sig>...]`, one signature per secret (newest first)."""
    if not secrets:
        raise ValueError("a webhook needs at least one secret to be signed with")
    return ",".join([f"t={timestamp}", *(f"v2={signature(s, timestamp, body)}" for s in secrets)])


def verify(
    secret: str,
    header: str,
    body: bytes,
    *,
    now: int,
    tolerance_seconds: int = DEFAULT_TOLERANCE_SECONDS,
) -> dict[str, Any]:
    """A receiver's check (the vendor SDKs' rules, compared in constant time): the event, or
    InvalidSignature."""
    timestamp: int | None = None
    offered: list[str] = []
    for item in header.split(","):
        key, _, value = item.strip().partition("=")
        if key == "t" and value.isdigit():
            timestamp = int(value)
        elif key == "v2" and value:
            offered.append(value.rstrip("="))
    if timestamp is None or not offered:
        raise InvalidSignature("the signature header is not t=<seconds>,v2=<signature>")
    if tolerance_seconds > 0 and timestamp < now - tolerance_seconds:
        raise InvalidSignature("the signature's timestamp is outside the tolerance")
    expected = signature(secret, timestamp, body).encode()
    if not any(hmac.compare_digest(expected, sig.encode()) for sig in offered):
        raise InvalidSignature("no signature matches")
    event: dict[str, Any] = json.loads(body)
    return event
