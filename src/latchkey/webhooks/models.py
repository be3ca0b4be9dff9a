"""What the webhook store hands out: endpoints, deliveries, the attempts log, and a claimed
delivery ready to send."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

PENDING = "pending"
DELIVERED = "delivered"
FAILED = "failed"  # given up after the last retry; a manual redelivery may still send it
STATES = (PENDING, DELIVERED, FAILED)


def _time(moment: datetime | None) -> str | None:
    return moment.isoformat().replace("+00:00", "Z") if moment else None


@dataclass(frozen=True)
class Endpoint:
    """A tenant's webhook endpoint. Its secret is not here: it is shown once, when made."""

    id: str
    tenant_id: str
    url: str
    # Event kinds delivered to it, or "<namespace>.*"; empty means every kind.
    event_types: tuple[str, ...]
    # The secret's first characters (whsec_ and four more), to tell secrets apart.
    secret_prefix: str
    description: str
    enabled: bool
    created_at: datetime
    updated_at: datetime
    # While set, the secret replaced by the last rotation still signs (a second v2 signature).
    previous_secret_expires_at: datetime | None

    def to_json(self) -> dict[str, Any]:
        """The wire shape (CLI, management API): camelCase, times in ISO 8601 UTC."""
        return {
            "id": self.id,
            "tenantId": self.tenant_id,
            "url": self.url,
            "eventTypes": list(self.event_types),
            "secretPrefix": self.secret_prefix,
            "description": self.description,
            "enabled": self.enabled,
            "createdAt": _time(self.created_at),
            "updatedAt": _time(self.updated_at),
            "previousSecretExpiresAt": _time(self.previous_secret_expires_at),
        }


@dataclass(frozen=True)
class Delivery:
    """One event for one endpoint, with its retry state."""

    id: str
    tenant_id: str
    endpoint_id: str
    event_id: str
    event_type: str
    payload: str
    redelivery_of: str | None
    state: str  # PENDING, DELIVERED or FAILED
    attempts: int
    next_attempt_at: datetime
    last_status: int | None
    last_error: str | None
    delivered_at: datetime | None
    created_at: datetime

    def to_json(self, *, payload: bool = False) -> dict[str, Any]:
        """The wire shape; with `payload`, the body sent (as JSON, not the signed bytes)."""
        shape: dict[str, Any] = {
            "id": self.id,
            "tenantId": self.tenant_id,
            "endpointId": self.endpoint_id,
            "eventId": self.event_id,
            "eventType": self.event_type,
            "state": self.state,
            "attempts": self.attempts,
            "nextAttemptAt": _time(self.next_attempt_at) if self.state == PENDING else None,
            "lastStatus": self.last_status,
            "lastError": self.last_error,
            "deliveredAt": _time(self.delivered_at),
            "createdAt": _time(self.created_at),
            "redeliveryOf": self.redelivery_of,
        }
        if payload:
            shape["payload"] = json.loads(self.payload)
        return shape


@dataclass(frozen=True)
class Attempt:
    """One POST of a delivery: the HTTP status, or the error when there was no response."""

    id: str
    delivery_id: str
    attempt: int
    attempted_at: datetime
    status: int | None
    error: str | None
    duration_ms: int

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "deliveryId": self.delivery_id,
            "attempt": self.attempt,
            "attemptedAt": _time(self.attempted_at),
            "status": self.status,
            "error": self.error,
            "durationMs": self.duration_ms,
        }


@dataclass(frozen=True)
class Claimed:
    """A delivery leased to one worker until `leased_until`, with where and how to send it."""

    id: str
    tenant_id: str
    endpoint_id: str
    event_id: str
    payload: str
    attempts: int
    leased_until: datetime
    url: str
    sealed_secret: bytes
    # The secret before the last rotation, while it still signs; None otherwise.
    previous_sealed_secret: bytes | None
