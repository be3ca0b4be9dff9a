"""What the webhook store hands out: endpoints, deliveries, the attempts log, and a claimed
delivery ready to send."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

PENDING = "pending"
DELIVERED = "delivered"
FAILED = "failed"  # given up after the last retry; a manual redelivery may still send it


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
