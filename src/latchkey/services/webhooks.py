"""Webhook endpoints and deliveries: which endpoints an event goes to, secrets, redelivery, the
delivery log; latchkey/webhooks/validation.py says what a URL and a filter may be, the store
keeps them and services/webhook_worker.py sends them.

An endpoint's secret (`whsec_...`) is shown once, when the endpoint is made or its secret
rotated; it is kept sealed with the master key, since signing needs it back. An operator may give
the secret instead: the tenant's secret key, say, so that receivers already verifying with
`new Authsignal({ apiSecretKey })` accept Latchkey's webhooks unchanged.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import timedelta

from sqlalchemy import Connection

from latchkey.errors import Conflict, InvalidRequest, NotFound, TenantNotFound
from latchkey.event_kinds import WEBHOOK_TEST
from latchkey.ids import new_id, new_token
from latchkey.models import Event
from latchkey.runtime import Runtime
from latchkey.services import sealing
from latchkey.store import tenants as tenant_store
from latchkey.store import users as user_store
from latchkey.store import webhook_log as delivery_log
from latchkey.store import webhook_outbox as outbox
from latchkey.store import webhooks as store
from latchkey.webhooks import signing
from latchkey.webhooks.models import (
    STATES,
    Attempt,
    Claimed,
    Delivery,
    Endpoint,
)
from latchkey.webhooks.validation import (
    matches,
    validate_description,
    validate_event_types,
    validate_secret,
    validate_url,
)

SECRET_PREFIX = "whsec_"
ROTATION_GRACE = timedelta(hours=24)
MAX_ROTATION_GRACE = timedelta(days=7)
_CACHE = "webhook_filters"
_CACHE_SECONDS = 3.0
_KNOWN_PREFIXES = (SECRET_PREFIX, "lk_secret_")  # the latter: a tenant secret key (api_keys.py)


class WebhookEndpointNotFound(NotFound):
    code = "webhook_endpoint_not_found"


class WebhookDeliveryNotFound(NotFound):
    code = "webhook_delivery_not_found"


# --- endpoints ----------------------------------------------------------------------------------


def _new_secret(rt: Runtime, endpoint_id: str, given: str | None) -> tuple[str, bytes]:
    secret = SECRET_PREFIX + new_token(32) if given is None else validate_secret(given)
    sealed = sealing.seal(rt.master_key, secret.encode(), context=_context(endpoint_id))
    return secret, sealed


def _context(endpoint_id: str) -> str:
    return f"webhook {endpoint_id} secret"


def _prefix(secret: str) -> str:
    """Enough to tell secrets apart: a known prefix and 4 more characters, else 4."""
    known = next((p for p in _KNOWN_PREFIXES if secret.startswith(p)), "")
    return secret[: len(known) + 4]


def _changed(rt: Runtime, tenant_id: str) -> None:
    rt.cache(_CACHE, _CACHE_SECONDS).forget(tenant_id)


def create_endpoint(
    rt: Runtime,
    tenant_id: str,
    *,
    url: str,
    event_types: Iterable[str] = (),
    description: str = "",
    enabled: bool = True,
    secret: str | None = None,
) -> tuple[Endpoint, str]:
    """Make an endpoint; its signing secret (`secret`, or a new one) is returned here and never
    again."""
    now = rt.now()
    endpoint_id = new_id()
    secret, sealed = _new_secret(rt, endpoint_id, secret)
    endpoint = Endpoint(
        id=endpoint_id,
        tenant_id=tenant_id,
        url=validate_url(url),
        event_types=validate_event_types(event_types),
        secret_prefix=_prefix(secret),
        description=validate_description(description),
        enabled=bool(enabled),
        created_at=now,
        updated_at=now,
        previous_secret_expires_at=None,
    )
    with rt.transaction() as conn:
        if tenant_store.get(conn, tenant_id) is None:
            raise TenantNotFound(f"no tenant {tenant_id!r}")
        store.add_endpoint(conn, endpoint, sealed_secret=sealed)
    _changed(rt, tenant_id)
    return endpoint, secret


def get_endpoint(rt: Runtime, tenant_id: str, endpoint_id: str) -> Endpoint:
    with rt.read() as conn:
        found = store.get_endpoint(conn, tenant_id, endpoint_id)
    if found is None:
        raise WebhookEndpointNotFound(f"no webhook endpoint {endpoint_id!r}")
    return found


def list_endpoints(rt: Runtime, tenant_id: str) -> list[Endpoint]:
    with rt.read() as conn:
        return store.list_endpoints(conn, tenant_id)


def update_endpoint(
    rt: Runtime,
    tenant_id: str,
    endpoint_id: str,
    *,
    url: str | None = None,
    event_types: Iterable[str] | None = None,
    description: str | None = None,
    enabled: bool | None = None,
) -> Endpoint:
    """Change what is given; pending deliveries go to the new URL with the new settings."""
    changes: dict[str, object] = {}
    if url is not None:
        changes["url"] = validate_url(url)
    if event_types is not None:
        changes["event_types"] = validate_event_types(event_types)
    if description is not None:
        changes["description"] = validate_description(description)
    if enabled is not None:
        changes["enabled"] = bool(enabled)
    with rt.transaction() as conn:
        if not store.update_endpoint(conn, tenant_id, endpoint_id, now=rt.now(), **changes):
            raise WebhookEndpointNotFound(f"no webhook endpoint {endpoint_id!r}")
        updated = store.get_endpoint(conn, tenant_id, endpoint_id)
    _changed(rt, tenant_id)
    assert updated is not None
    return updated


def delete_endpoint(rt: Runtime, tenant_id: str, endpoint_id: str) -> None:
    """Remove the endpoint, its pending deliveries and its delivery log."""
    with rt.transaction() as conn:
        if not store.delete_endpoint(conn, tenant_id, endpoint_id):
            raise WebhookEndpointNotFound(f"no webhook endpoint {endpoint_id!r}")
    _changed(rt, tenant_id)


def rotate_secret(
    rt: Runtime,
    tenant_id: str,
    endpoint_id: str,
    *,
    keep_previous_for: timedelta = ROTATION_GRACE,
    secret: str | None = None,
) -> tuple[Endpoint, str]:
    """A new secret (`secret`, or a new one), returned once. Until `keep_previous_for` has
    passed, every webhook carries a signature with each secret (two v2 values), so receivers can
    switch without a gap."""
    if keep_previous_for < timedelta(0) or keep_previous_for > MAX_ROTATION_GRACE:
        raise InvalidRequest(
            f"the previous secret may be kept for 0 to {MAX_ROTATION_GRACE.days} days"
        )
    secret, sealed = _new_secret(rt, endpoint_id, secret)
    now = rt.now()
    keep = keep_previous_for > timedelta(0)
    with rt.transaction() as conn:
        current = store.sealed_secret(conn, tenant_id, endpoint_id)
        if current is None:
            raise WebhookEndpointNotFound(f"no webhook endpoint {endpoint_id!r}")
        store.replace_secret(
            conn,
            tenant_id,
            endpoint_id,
            sealed=sealed,
            prefix=_prefix(secret),
            previous=current if keep else None,
            previous_expires_at=now + keep_previous_for if keep else None,
            now=now,
        )
        endpoint = store.get_endpoint(conn, tenant_id, endpoint_id)
    assert endpoint is not None
    return endpoint, secret


def signing_secrets(rt: Runtime, item: Claimed) -> list[str]:
    """The secrets a claimed delivery is signed with, newest first (ConfigError if the master
    key does not open them)."""
    sealed = [item.sealed_secret]
    if item.previous_sealed_secret is not None:
        sealed.append(item.previous_sealed_secret)
    context = _context(item.endpoint_id)
    return [sealing.unseal(rt.master_key, s, context=context).decode() for s in sealed]


# --- deliveries ---------------------------------------------------------------------------------


def enqueue_for_event(conn: Connection, rt: Runtime, event: Event) -> int:
    """Queue the event for each enabled endpoint of its tenant whose filter matches, in the
    caller's transaction (so only if the event commits); how many were queued.

    Every event passes here, sign-ins included, so a tenant's filters are cached: an event no
    endpoint wants costs no statement. A change made in this process applies at once; one made
    in another (the CLI, another node) within a few seconds, except that an endpoint disabled
    or deleted there gets nothing from then on (the insert checks its row).
    """
    filters = rt.cache(_CACHE, _CACHE_SECONDS).get(
        event.tenant_id, lambda: tuple(store.enabled_filters(conn, event.tenant_id))
    )
    wanted = [endpoint_id for endpoint_id, types in filters if matches(types, event.kind)]
    if not wanted:
        return 0
    # Receivers know users by the app's id, not Latchkey's: read it while the user still exists.
    owner = user_store.get(conn, event.tenant_id, event.user_id) if event.user_id else None
    queued = outbox.enqueue(
        conn,
        tenant_id=event.tenant_id,
        endpoint_ids=wanted,
        event_id=event.id,
        event_type=event.kind,
        payload=signing.event_payload(
            event, source=rt.public_url, app_user_id=owner.external_id if owner else None
        ),
        now=rt.now(),
    )
    return len(queued)


def send_test(rt: Runtime, tenant_id: str, endpoint_id: str) -> Delivery:
    """Queue a `webhook.test` event for one endpoint (the portal's "send test" button)."""
    now = rt.now()
    payload = signing.envelope(
        event_type=WEBHOOK_TEST,
        event_id=new_id(),
        tenant_id=tenant_id,
        source=rt.public_url,
        time=now,
        data={"endpointId": endpoint_id},
    )
    with rt.transaction() as conn:
        endpoint = store.get_endpoint(conn, tenant_id, endpoint_id)
        if endpoint is None:
            raise WebhookEndpointNotFound(f"no webhook endpoint {endpoint_id!r}")
        return _queue_one(conn, rt, endpoint, payload, redelivery_of=None)


def redeliver(rt: Runtime, tenant_id: str, delivery_id: str) -> Delivery:
    """Send a delivery again (whatever became of it) as a new delivery with the same payload;
    the event id stays, so a receiver that already handled it can tell."""
    with rt.transaction() as conn:
        original = delivery_log.get_delivery(conn, tenant_id, delivery_id)
        if original is None:
            raise WebhookDeliveryNotFound(f"no webhook delivery {delivery_id!r}")
        endpoint = store.get_endpoint(conn, tenant_id, original.endpoint_id)
        assert endpoint is not None  # deliveries go with their endpoint
        return _queue_one(conn, rt, endpoint, original.payload, redelivery_of=original.id)


def _queue_one(
    conn: Connection, rt: Runtime, endpoint: Endpoint, payload: str, *, redelivery_of: str | None
) -> Delivery:
    if not endpoint.enabled:
        raise Conflict(
            f"webhook endpoint {endpoint.id!r} is disabled; enable it first",
            code="webhook_endpoint_disabled",
        )
    body = json.loads(payload)
    queued = outbox.enqueue(
        conn,
        tenant_id=endpoint.tenant_id,
        endpoint_ids=[endpoint.id],
        event_id=body["id"],
        event_type=body["type"],
        payload=payload,
        now=rt.now(),
        redelivery_of=redelivery_of,
    )
    found = delivery_log.get_delivery(conn, endpoint.tenant_id, queued[0])
    assert found is not None
    return found


def get_delivery(rt: Runtime, tenant_id: str, delivery_id: str) -> Delivery:
    with rt.read() as conn:
        found = delivery_log.get_delivery(conn, tenant_id, delivery_id)
    if found is None:
        raise WebhookDeliveryNotFound(f"no webhook delivery {delivery_id!r}")
    return found


def list_deliveries(
    rt: Runtime,
    tenant_id: str,
    *,
    endpoint_id: str | None = None,
    event_id: str | None = None,
    state: str | None = None,
    before: Delivery | None = None,
    limit: int = 50,
) -> list[Delivery]:
    """Newest first, optionally only one endpoint's, one event's, or those in one state
    (pending, delivered, failed); pass the last delivery of a page as `before` for the next."""
    if state is not None and state not in STATES:
        raise InvalidRequest(f"delivery state {state!r} is not one of {list(STATES)}")
    cursor = None if before is None else (before.created_at, before.id)
    with rt.read() as conn:
        return delivery_log.list_deliveries(
            conn,
            tenant_id,
            endpoint_id=endpoint_id,
            event_id=event_id,
            state=state,
            before=cursor,
            limit=max(1, min(limit, 500)),
        )


def list_attempts(rt: Runtime, tenant_id: str, delivery_id: str) -> list[Attempt]:
    """A delivery's log, oldest first."""
    with rt.read() as conn:
        if delivery_log.get_delivery(conn, tenant_id, delivery_id) is None:
            raise WebhookDeliveryNotFound(f"no webhook delivery {delivery_id!r}")
        return delivery_log.list_attempts(conn, tenant_id, delivery_id)


def prune(rt: Runtime, *, older_than: timedelta, tenant_id: str | None = None) -> int:
    """Drop finished deliveries (and their log) older than `older_than`, for the retention job;
    pending ones are kept. How many went."""
    with rt.transaction() as conn:
        return delivery_log.prune(conn, before=rt.now() - older_than, tenant_id=tenant_id)
