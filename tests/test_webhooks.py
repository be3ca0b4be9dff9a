"""Webhooks against a real HTTP receiver (http.server on a free local port), each signature
checked by the vendor's own verifier (npm @authsignal/node's webhook.constructEvent, run under
node): endpoints and filters, the event log's transactions and the hot path's cost, outages and
retries, restarts (of a worker, and of a real `latchkey serve`), concurrent workers, secret
rotation and manual redelivery, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import os
import re
import secrets
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from litestar.testing import TestClient
from sqlalchemy import select
from sqlalchemy.event import listen, remove

from latchkey import config, event_kinds
from latchkey.api.app import create_app
from latchkey.config import Settings
from latchkey.errors import ConfigError, Conflict, InvalidRequest, TenantNotFound
from latchkey.ids import new_id
from latchkey.models import Event, Tenant
from latchkey.runtime import RequestMeta, Runtime
from latchkey.services import events, tenants, webhooks
from latchkey.services.webhook_worker import Drained, WebhookWorker, build_worker
from latchkey.store import events as event_store
from latchkey.store import migrate
from latchkey.store import webhook_log as delivery_log
from latchkey.store import webhook_outbox as outbox
from latchkey.store import webhooks as store
from latchkey.store.engine import make_engine
from latchkey.store.tables import webhook_attempts, webhook_deliveries, webhook_endpoints
from latchkey.testing.authenticator import SoftAuthenticator
from latchkey.webhooks import signing, validation
from latchkey.webhooks.models import DELIVERED, FAILED, PENDING
from tests.live_server import create_tenant, serving, wait_healthy
from tests.support import authsignal_node
from tests.support.authsignal_node import sdk_verify
from tests.support.clock import FakeClock
from tests.support.database import BACKENDS, postgres_schema
from tests.web_parties import ORIGIN, Backend, Browser
from tests.webhook_parties import Receiver, free_port, make_event, record

# The fixture running the vendor's verifier (tests/support/authsignal_node.py).
vendor_verifier = authsignal_node.vendor_verifier


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A receiver on a free port, not yet started."""
    made = Receiver(port=free_port())
    yield made
    made.stop()


# --- helpers ------------------------------------------------------------------------------------


@pytest.fixture
def tenant(tenant_and_secret: tuple[Tenant, str]) -> Tenant:
    return tenant_and_secret[0]


def deliveries(rt: Runtime) -> list[Any]:
    with rt.read() as conn:
        return list(conn.execute(select(webhook_deliveries)).all())


def pending(rt: Runtime) -> int:
    with rt.read() as conn:
        return delivery_log.pending_count(conn)


def wait_for(condition: Any, seconds: float = 5.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting")
        time.sleep(0.01)


def worker_for(rt: Runtime, **options: Any) -> WebhookWorker:
    options.setdefault("concurrency", 1)
    options.setdefault("allow_private", True)  # the receiver is on this machine
    options.setdefault("timeout_seconds", 5)
    return WebhookWorker(rt, **options)


# --- payload and signature, by the vendor's verifier --------------------------------------------

META = RequestMeta(ip="203.0.113.7", user_agent="test")
SECRET = "whsec_Jm1aT9kq8yQ0s3tY7nB2cR5vX4wZ6pL1dF8gH0jK2mE"


def test_payload_and_signature_are_accepted_by_the_vendor_sdk(vendor_verifier: Path) -> None:
    event = Event(
        id="6f1c2d3e-4b5a-4c6d-8e7f-9a0b1c2d3e4f",
        tenant_id="7752d28e-e627-4b1b-bb81-b45d68d617bc",
        kind=event_kinds.PASSKEY_AUTHENTICATION,
        outcome="failure",
        reason="credential_not_found",
        user_id="b9f74d36-fcfc-4efc-87f1-3664ab5a7fb0",
        credential_id=None,
        ip="203.0.113.7",
        user_agent="Mozilla/5.0 (Zoë's phone)",
        created_at=datetime(2026, 11, 24, 9, 30, 5, 123456, tzinfo=UTC),
        detail={"app": "web", "pool_id": "p1", "user_verified": True},
    )
    body = signing.event_payload(event, source="https://login.example.com", app_user_id="app-7")
    assert body.isascii()  # the same bytes whatever encoding a receiver decodes with
    assert json.loads(body) == {
        "version": 1,
        "type": "passkey.authentication",
        "id": event.id,
        "source": "https://login.example.com",
        "time": "2026-11-24T09:30:05.123Z",
        "tenantId": event.tenant_id,
        "data": {
            "kind": "passkey.authentication",
            "outcome": "failure",
            "reason": "credential_not_found",
            "userId": "app-7",
            "latchkeyUserId": event.user_id,
            "credentialId": None,
            "ip": "203.0.113.7",
            "userAgent": "Mozilla/5.0 (Zoë's phone)",
            "detail": {"app": "web", "poolId": "p1", "userVerified": True},
        },
    }
    old = 1_790_000_000
    now = int(time.time())
    header = signing.signature_header([SECRET], now, body.encode())
    assert header.startswith(f"t={now},v2=")
    assert "=" not in header.split("v2=")[1]  # unpadded, as the SDK computes it
    other = "whsec_" + "A" * 43
    tampered = body.replace("failure", "success")
    rotated = signing.signature_header([other, SECRET], now, body.encode())
    checks: list[dict[str, Any]] = [
        {"secret": SECRET, "body": body, "header": header},
        {"secret": SECRET, "body": tampered, "header": header},
        {"secret": other, "body": body, "header": header},
        {"secret": SECRET, "body": body, "header": rotated},  # several v2: any may match
        {"secret": other, "body": body, "header": rotated},
        {"secret": SECRET, "body": body, "header": signing.signature_header([SECRET], old, b"")},
        {
            "secret": SECRET,
            "body": body,
            "header": signing.signature_header([SECRET], old, body.encode()),
            "tolerance": -1,
        },
    ]
    results = sdk_verify(vendor_verifier, checks)
    assert results[0] == {"ok": True, "event": json.loads(body)}
    assert results[1] == {"ok": False, "error": "Signature mismatch."}
    assert results[2] == {"ok": False, "error": "Signature mismatch."}
    assert results[3]["ok"]
    assert results[4]["ok"]
    assert results[5] == {"ok": False, "error": "Timestamp is outside the tolerance zone."}
    assert results[6]["ok"]
    # Our own verifier (for Python receivers) agrees.
    assert signing.verify(SECRET, rotated, body.encode(), now=now)["id"] == event.id
    with pytest.raises(signing.InvalidSignature):
        signing.verify(SECRET, header, tampered.encode(), now=now)
    with pytest.raises(signing.InvalidSignature):
        signing.verify(SECRET, header, body.encode(), now=now + 301)


# --- endpoints ----------------------------------------------------------------------------------


def test_endpoint_crud_shows_the_secret_once_and_keeps_it_sealed(
    rt: Runtime, tenant: Tenant
) -> None:
    endpoint, secret = webhooks.create_endpoint(
        rt,
        tenant.id,
        url="https://hooks.example.com/latchkey?source=passkeys",
        event_types=["pool.*", event_kinds.PASSKEY_REGISTRATION, event_kinds.PASSKEY_REGISTRATION],
        description="  CRM sync ",
    )
    assert secret.startswith("whsec_")
    assert len(secret) > 40
    assert endpoint.secret_prefix == secret[:10]
    assert endpoint.event_types == ("passkey.registration", "pool.*")
    assert (endpoint.description, endpoint.enabled) == ("CRM sync", True)
    with rt.read() as conn:
        sealed = conn.execute(select(webhook_endpoints.c.sealed_secret)).scalar_one()
    assert secret.encode() not in sealed
    assert secret[6:].encode() not in sealed
    assert secret not in repr(endpoint)
    assert webhooks.list_endpoints(rt, tenant.id) == [endpoint]
    assert webhooks.get_endpoint(rt, tenant.id, endpoint.id) == endpoint

    updated = webhooks.update_endpoint(
        rt, tenant.id, endpoint.id, url="http://localhost:4000/hook", event_types=[], enabled=False
    )
    assert (updated.url, updated.event_types, updated.enabled) == (
        "http://localhost:4000/hook",
        (),
        False,
    )
    assert updated.description == "CRM sync"
    assert updated.secret_prefix == endpoint.secret_prefix

    other, _ = tenants.create(rt, rp_id="localhost", origins=[ORIGIN])
    assert webhooks.list_endpoints(rt, other.id) == []
    for call in (
        lambda: webhooks.get_endpoint(rt, other.id, endpoint.id),
        lambda: webhooks.update_endpoint(rt, other.id, endpoint.id, enabled=True),
        lambda: webhooks.rotate_secret(rt, other.id, endpoint.id),
        lambda: webhooks.send_test(rt, other.id, endpoint.id),
        lambda: webhooks.delete_endpoint(rt, other.id, endpoint.id),
    ):
        with pytest.raises(webhooks.WebhookEndpointNotFound):
            call()
    with pytest.raises(TenantNotFound):
        webhooks.create_endpoint(rt, new_id(), url="https://hooks.example.com/")

    webhooks.delete_endpoint(rt, tenant.id, endpoint.id)
    assert webhooks.list_endpoints(rt, tenant.id) == []
    with pytest.raises(webhooks.WebhookEndpointNotFound):
        webhooks.delete_endpoint(rt, tenant.id, endpoint.id)


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("http://hooks.example.com/in", "must use https"),
        ("http://10.0.0.5/in", "must use https"),
        ("https://user:pw@hooks.example.com/in", "user name or password"),
        ("ftp://hooks.example.com/in", "must be https://"),
        ("javascript:alert(1)", "must be https://"),
        ("https:///in", "must be https://"),
        ("https://hooks.example.com/in#frag", "must be https://"),
        ("https://hooks.example.com:99999/in", "must be https://"),
        ("https://hooks example.com/in", "must be https://"),
        ("https://hooks.example.com/in\r\nX-Evil: 1", "must be https://"),
        ("https://hooks_.exa!mple.com/", "must be https://"),
        ("", "must be https://"),
        ("https://example.com/" + "a" * 2048, "must be https://"),
    ],
)
def test_bad_urls_are_refused_with_the_rule(url: str, says: str) -> None:
    with pytest.raises(InvalidRequest, match=says) as raised:
        validation.validate_url(url)
    assert raised.value.code == "invalid_webhook_url"


@pytest.mark.parametrize(
    "url",
    [
        "https://hooks.example.com/latchkey",
        "https://hooks.example.com:8443/in?token=abc",
        "https://203.0.113.9/in",
        "http://localhost:3000/webhooks",
        "http://127.0.0.1:9/x",
        "http://[::1]:8080/",
    ],
)
def test_good_urls_are_accepted(url: str) -> None:
    assert validation.validate_url(f"  {url} ") == url


@pytest.mark.parametrize(
    "types", [["passkey.bogus"], ["bogus.*"], ["*"], "passkey.registration", [42], [""]]
)
def test_unknown_event_types_are_refused(types: Any) -> None:
    with pytest.raises(InvalidRequest) as raised:
        validation.validate_event_types(types)
    assert raised.value.code == "unknown_event_type"


def test_every_kind_recorded_is_a_known_event_type() -> None:
    known = event_kinds.KINDS
    assert {"passkey.registration", "passkey.authentication", "pool.signed_in"} <= set(known)
    assert {"oidc.authorized", "pool.signed_up", "pool.recovery_requested"} <= set(known)
    assert all(re.fullmatch(r"[a-z]+\.[a-z_]+", kind) for kind in known), known
    assert validation.validate_event_types(known) == tuple(sorted(known))
    # Operators' changes (audit events) can be asked for as a whole.
    assert validation.validate_event_types(["admin.*"]) == ("admin.*",)
    assert validation.matches(("admin.*",), "admin.tenant.updated")


def test_a_refused_update_changes_nothing(rt: Runtime, tenant: Tenant) -> None:
    endpoint, _ = webhooks.create_endpoint(rt, tenant.id, url="https://hooks.example.com/a")
    with pytest.raises(InvalidRequest):
        webhooks.update_endpoint(
            rt, tenant.id, endpoint.id, description="new", url="http://hooks.example.com/"
        )
    assert webhooks.get_endpoint(rt, tenant.id, endpoint.id) == endpoint


# --- which endpoints an event goes to -----------------------------------------------------------


def test_events_go_to_every_enabled_endpoint_whose_filter_matches(
    rt: Runtime, tenant: Tenant
) -> None:
    every, _ = webhooks.create_endpoint(rt, tenant.id, url="https://a.example.com/")
    sign_ins, _ = webhooks.create_endpoint(
        rt,
        tenant.id,
        url="https://b.example.com/",
        event_types=[event_kinds.PASSKEY_AUTHENTICATION],
    )
    pools, _ = webhooks.create_endpoint(
        rt, tenant.id, url="https://c.example.com/", event_types=["pool.*"]
    )
    webhooks.create_endpoint(rt, tenant.id, url="https://d.example.com/", enabled=False)
    other, _ = tenants.create(rt, rp_id="localhost", origins=[ORIGIN])
    webhooks.create_endpoint(rt, other.id, url="https://e.example.com/")

    def queued_for(kind: str) -> set[str]:
        event = make_event(rt, tenant.id, kind)
        with rt.transaction() as conn:
            event_store.add(conn, event)
            count = webhooks.enqueue_for_event(conn, rt, event)
        got = {d.endpoint_id for d in deliveries(rt) if d.event_id == event.id}
        assert count == len(got)
        return got

    assert queued_for(event_kinds.PASSKEY_AUTHENTICATION) == {every.id, sign_ins.id}
    assert queued_for(event_kinds.PASSKEY_REGISTRATION) == {every.id}
    assert queued_for("pool.signed_up") == {every.id, pools.id}

    webhooks.update_endpoint(rt, tenant.id, every.id, enabled=False)
    webhooks.update_endpoint(
        rt, tenant.id, pools.id, event_types=[event_kinds.PASSKEY_REGISTRATION]
    )
    assert queued_for(event_kinds.PASSKEY_REGISTRATION) == {pools.id}
    webhooks.delete_endpoint(rt, tenant.id, pools.id)
    assert queued_for(event_kinds.PASSKEY_REGISTRATION) == set()
    assert validation.matches((), "anything.at_all")
    assert not validation.matches(("pool.*",), "passkey.registration")


def test_every_event_type_names_the_app_user_id(rt: Runtime, tenant: Tenant) -> None:
    """Issue 18 item 13: the payload's userId is the id the app's backend knows the user by,
    in every event type; Latchkey's own id rides along as latchkeyUserId."""
    from latchkey.services import users

    webhooks.create_endpoint(rt, tenant.id, url="https://hooks.example.com/")
    with rt.transaction() as conn:
        user = users.ensure(conn, rt, tenant, "app-user-42", {})
    for kind in event_kinds.KINDS:
        event = make_event(rt, tenant.id, kind, user_id=user.id)
        with rt.transaction() as conn:
            event_store.add(conn, event)
            assert webhooks.enqueue_for_event(conn, rt, event) == 1
        [sent] = [d for d in deliveries(rt) if d.event_id == event.id]
        data = json.loads(sent.payload)["data"]
        assert (data["userId"], data["latchkeyUserId"]) == ("app-user-42", user.id), kind
    anonymous = make_event(rt, tenant.id, event_kinds.PASSKEY_AUTHENTICATION)
    with rt.transaction() as conn:
        event_store.add(conn, anonymous)
        webhooks.enqueue_for_event(conn, rt, anonymous)
    [sent] = [d for d in deliveries(rt) if d.event_id == anonymous.id]
    assert json.loads(sent.payload)["data"]["userId"] is None


def test_a_rolled_back_event_queues_nothing(rt: Runtime, tenant: Tenant) -> None:
    webhooks.create_endpoint(rt, tenant.id, url="https://hooks.example.com/")
    event = make_event(rt, tenant.id, event_kinds.PASSKEY_REGISTRATION)

    def ceremony_failing_after_its_event() -> None:
        with rt.transaction() as conn:
            event_store.add(conn, event)
            assert webhooks.enqueue_for_event(conn, rt, event) == 1
            raise RuntimeError("the ceremony failed after its event was written")

    with pytest.raises(RuntimeError):
        ceremony_failing_after_its_event()
    assert deliveries(rt) == []
    record(rt, tenant.id)
    assert len(deliveries(rt)) == 1


def test_events_record_queues_the_webhooks_in_the_events_transaction(
    rt: Runtime, tenant: Tenant
) -> None:
    webhooks.create_endpoint(rt, tenant.id, url="https://hooks.example.com/")
    with rt.transaction() as conn:
        events.record(
            conn, rt, tenant_id=tenant.id, kind=event_kinds.PASSKEY_REGISTRATION, meta=RequestMeta()
        )

    def ceremony_failing_after_its_event() -> None:
        with rt.transaction() as conn:
            events.record(
                conn, rt, tenant_id=tenant.id, kind=event_kinds.PASSKEY_REGISTRATION, meta=META
            )
            raise RuntimeError("the ceremony failed after its event was written")

    with pytest.raises(RuntimeError):
        ceremony_failing_after_its_event()
    events.record_failure(
        rt,
        tenant_id=tenant.id,
        kind=event_kinds.PASSKEY_AUTHENTICATION,
        meta=RequestMeta(),
        reason="x",
    )
    (logged_failure, logged) = events.recent(rt, tenant.id)
    assert sorted(d.event_id for d in deliveries(rt)) == sorted([logged.id, logged_failure.id])


@contextmanager
def statements(rt: Runtime) -> Iterator[list[str]]:
    """The SQL statements run on the runtime's engine inside the block."""
    seen: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(statement)

    listen(rt.engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        remove(rt.engine, "before_cursor_execute", count)


def _verb_and_table(statement: str) -> str:
    found = re.search(r"\b(?:INTO|FROM)\s+(\w+)", statement)
    return f"{statement.split()[0]} {found.group(1) if found else '?'}"


def test_an_event_no_endpoint_wants_costs_no_statement(rt: Runtime, tenant: Tenant) -> None:
    """The statements a recorded event adds for webhooks. (The event's own INSERT may run on
    the driver's cursor, which SQLAlchemy's statement hook does not see: it is counted by its
    rows instead.)"""

    def record_one() -> list[str]:
        with statements(rt) as seen, rt.transaction() as conn:
            events.record(
                conn, rt, tenant_id=tenant.id, kind=event_kinds.PASSKEY_AUTHENTICATION, meta=META
            )
        return [v for v in map(_verb_and_table, seen) if v != "INSERT events"]

    assert record_one() == ["SELECT webhook_endpoints"]  # cache filled
    assert record_one() == []  # the hot path: no endpoint, no statement
    endpoint, _ = webhooks.create_endpoint(
        rt, tenant.id, url="https://hooks.example.com/", event_types=["pool.*"]
    )
    record_one()
    assert record_one() == []  # an endpoint that does not want it: none either
    webhooks.update_endpoint(rt, tenant.id, endpoint.id, event_types=[])
    record_one()
    assert record_one() == ["INSERT webhook_deliveries"]
    assert len(deliveries(rt)) == 2
    recorded = [
        e for e in events.recent(rt, tenant.id) if e.kind == event_kinds.PASSKEY_AUTHENTICATION
    ]
    assert len(recorded) == 6


def test_an_endpoint_disabled_or_deleted_by_another_process_gets_nothing(
    rt: Runtime, tenant: Tenant
) -> None:
    """This process's cache still lists the endpoint; the queued row must not break the
    ceremony's transaction, nor reach an endpoint that is off."""
    endpoint, _ = webhooks.create_endpoint(rt, tenant.id, url="https://hooks.example.com/")
    record(rt, tenant.id)
    assert len(deliveries(rt)) == 1
    with rt.transaction() as conn:  # as the CLI would, in another process: no cache dropped
        store.update_endpoint(conn, tenant.id, endpoint.id, now=rt.now(), enabled=False)
    record(rt, tenant.id)
    assert len(deliveries(rt)) == 1
    with rt.transaction() as conn:
        store.delete_endpoint(conn, tenant.id, endpoint.id)
    event = record(rt, tenant.id)  # no foreign-key error: the event is kept
    assert deliveries(rt) == []
    assert event.id in {e.id for e in events.recent(rt, tenant.id)}


# --- delivery -----------------------------------------------------------------------------------


def test_a_delivery_reaches_the_receiver_and_the_vendor_sdk_verifies_it(
    rt: Runtime, tenant: Tenant, receiver: Receiver, vendor_verifier: Path
) -> None:
    receiver.start()
    endpoint, secret = webhooks.create_endpoint(rt, tenant.id, url=receiver.url)
    event = record(rt, tenant.id, event_kinds.PASSKEY_REGISTRATION, user_id=None, reason=None)
    worker = worker_for(rt)
    assert worker.drain_once() == Drained(delivered=1)
    assert worker.drain_once() == Drained()

    (got,) = receiver.requests
    assert got.headers["Content-Type"] == "application/json"
    assert got.headers["User-Agent"].startswith("Latchkey-Webhooks/")
    (result,) = sdk_verify(
        vendor_verifier,
        [{"secret": secret, "body": got.body.decode(), "header": got.headers["X-Signature-V2"]}],
    )
    assert result["ok"], result
    sent = result["event"]
    assert (sent["type"], sent["id"], sent["tenantId"]) == (
        event_kinds.PASSKEY_REGISTRATION,
        event.id,
        tenant.id,
    )
    assert sent["source"] == rt.public_url
    assert sent["data"]["userAgent"] == "Mozilla/5.0 (Zoë's phone)"

    (delivery,) = webhooks.list_deliveries(rt, tenant.id)
    assert got.headers["X-Latchkey-Delivery"] == delivery.id
    assert (delivery.state, delivery.attempts, delivery.last_status) == (DELIVERED, 1, 200)
    assert delivery.payload.encode() == got.body  # the stored bytes are the bytes signed
    (attempt,) = webhooks.list_attempts(rt, tenant.id, delivery.id)
    assert (attempt.attempt, attempt.status, attempt.error) == (1, 200, None)
    assert attempt.duration_ms >= 0
    assert endpoint.id == delivery.endpoint_id


def sign_up_in_and_fail(client: TestClient, tenant_id: str, secret_key: str) -> None:
    """A sign-up, a sign-in on the hot path and a sign-in from an origin the tenant lacks."""
    browser = Browser(client, tenant_id)
    backend = Backend(client, secret_key)
    assert browser.sign_up(backend.track("u-1", "add-passkey")["token"]).status_code == 200
    assert browser.sign_in().status_code == 200
    elsewhere = Browser(
        client, tenant_id, origin="https://evil.example", authenticator=browser.authenticator
    )
    assert elsewhere.sign_in().status_code == 400


def test_ceremonies_over_http_queue_their_webhooks_and_the_apps_worker_sends_them(
    rt: Runtime,
    tenant_and_secret: tuple[Tenant, str],
    receiver: Receiver,
    vendor_verifier: Path,
) -> None:
    """A sign-up, a sign-in on the hot path (/v1/client/verify/passkey) and a sign-in refused
    after its checks began: three events, three webhooks, sent by the worker the app runs; the
    refused one is reported as the failure it was, never as a success."""
    tenant, secret_key = tenant_and_secret
    receiver.start()
    _, secret = webhooks.create_endpoint(rt, tenant.id, url=receiver.url, event_types=["passkey.*"])
    app = create_app(rt, Settings(webhook_private_networks="allow"))
    with TestClient(app, raise_server_exceptions=False) as client:
        sign_up_in_and_fail(client, tenant.id, secret_key)
        wait_for(lambda: len(receiver.accepted()) == 3)
    checks = [
        {"secret": secret, "body": r.body.decode(), "header": r.headers["X-Signature-V2"]}
        for r in receiver.accepted()
    ]
    sent = [r["event"] for r in sdk_verify(vendor_verifier, checks)]
    recorded = {e.id: e for e in events.recent(rt, tenant.id)}
    assert sorted(e["id"] for e in sent) == sorted(recorded)
    got = sorted((e["type"], e["data"]["outcome"], e["data"]["reason"]) for e in sent)
    assert got == [
        (event_kinds.PASSKEY_AUTHENTICATION, "failure", "origin_mismatch"),
        (event_kinds.PASSKEY_AUTHENTICATION, "success", None),
        (event_kinds.PASSKEY_REGISTRATION, "success", None),
    ]
    (user,) = {e.user_id for e in recorded.values()}  # the one user, on every event
    assert user is not None
    # Named as the app knows them (the id it tracked), Latchkey's own id beside it.
    assert {e["data"]["userId"] for e in sent} == {"u-1"}
    assert {e["data"]["latchkeyUserId"] for e in sent} == {user}


def test_signed_with_the_tenant_secret_key_an_existing_verifier_accepts_it(
    rt: Runtime, tenant_and_secret: tuple[Tenant, str], receiver: Receiver, vendor_verifier: Path
) -> None:
    """A backend already verifying the vendor's webhooks with `new Authsignal({ apiSecretKey })`
    keeps its code and its key: the endpoint is given the tenant's secret key to sign with."""
    tenant, secret_key = tenant_and_secret
    receiver.start()
    endpoint, secret = webhooks.create_endpoint(rt, tenant.id, url=receiver.url, secret=secret_key)
    assert secret == secret_key
    assert endpoint.secret_prefix == secret_key[:14]
    with rt.read() as conn:
        sealed = conn.execute(select(webhook_endpoints.c.sealed_secret)).scalar_one()
    assert secret_key.encode() not in sealed
    event = record(rt, tenant.id)
    assert worker_for(rt).drain_once() == Drained(delivered=1)
    (got,) = receiver.requests
    checks = [
        {"secret": key, "body": got.body.decode(), "header": got.headers["X-Signature-V2"]}
        for key in (secret_key, "lk_secret_" + "x" * 43)
    ]
    accepted, other_key = sdk_verify(vendor_verifier, checks)
    assert accepted["ok"], accepted
    assert accepted["event"]["id"] == event.id
    assert other_key == {"ok": False, "error": "Signature mismatch."}


@pytest.mark.parametrize(
    "secret", ["short", "x" * 31, "x" * 201, "x" * 31 + " ", "x" * 31 + "é", "x" * 31 + "\n"]
)
def test_a_given_secret_must_be_long_printable_ascii(secret: str) -> None:
    with pytest.raises(InvalidRequest) as raised:
        validation.validate_secret(secret)
    assert raised.value.code == "invalid_webhook_secret"
    assert validation.validate_secret("x" * 32) == "x" * 32


def test_receiver_down_then_back_every_event_is_delivered_once(
    rt: Runtime, clock: FakeClock, tenant: Tenant, receiver: Receiver, vendor_verifier: Path
) -> None:
    _, secret = webhooks.create_endpoint(rt, tenant.id, url=receiver.url)
    sent = [record(rt, tenant.id).id for _ in range(3)]
    worker = worker_for(rt)

    assert worker.drain_once() == Drained(failed=3)  # nothing listening: refused
    assert worker.drain_once() == Drained()  # not due yet
    first = webhooks.list_deliveries(rt, tenant.id)
    assert {d.state for d in first} == {PENDING}
    assert all(d.next_attempt_at == clock.now + timedelta(seconds=10) for d in first)
    assert all("ConnectError" in (d.last_error or "") for d in first)

    receiver.status = 503
    receiver.start()
    clock.advance(seconds=10)
    assert worker.drain_once() == Drained(failed=3)
    assert all(d.last_status == 503 for d in webhooks.list_deliveries(rt, tenant.id))

    receiver.status = 200
    clock.advance(seconds=19)
    assert worker.drain_once() == Drained()  # 20 s after the second failure, not 10
    clock.advance(seconds=1)
    assert worker.drain_once() == Drained(delivered=3)
    clock.advance(hours=2)
    assert worker.drain_once() == Drained()

    assert sorted(r.event_id for r in receiver.accepted()) == sorted(sent)
    for delivery in webhooks.list_deliveries(rt, tenant.id):
        assert (delivery.state, delivery.attempts) == (DELIVERED, 3)
        log = webhooks.list_attempts(rt, tenant.id, delivery.id)
        assert [(a.attempt, a.status) for a in log] == [(1, None), (2, 503), (3, 200)]
        assert "ConnectError" in (log[0].error or "")
        assert log[1].error == "HTTP 503"
    results = sdk_verify(
        vendor_verifier,
        [
            {"secret": secret, "body": r.body.decode(), "header": r.headers["X-Signature-V2"]}
            for r in receiver.accepted()
        ],
    )
    assert all(r["ok"] for r in results), results


def test_backoff_doubles_to_an_hour_gives_up_after_a_day_and_redelivery_sends_it_again(
    rt: Runtime, clock: FakeClock, tenant: Tenant, receiver: Receiver
) -> None:
    delays = [outbox.retry_delay(n) for n in range(1, outbox.MAX_ATTEMPTS)]
    assert [d.total_seconds() for d in delays[:4]] == [10, 20, 40, 80]
    assert max(delays) == timedelta(hours=1)
    assert timedelta(hours=23) < sum(delays, timedelta()) < timedelta(hours=25)  # a day's outage
    assert outbox.retry_delay(10_000) == timedelta(hours=1)

    webhooks.create_endpoint(rt, tenant.id, url=receiver.url)
    event = record(rt, tenant.id)
    worker = worker_for(rt)
    for _ in range(40):
        worker.drain_once()
        clock.advance(hours=1)
    (given_up,) = webhooks.list_deliveries(rt, tenant.id)
    assert (given_up.state, given_up.attempts) == (FAILED, outbox.MAX_ATTEMPTS) == (FAILED, 32)
    assert len(webhooks.list_attempts(rt, tenant.id, given_up.id)) == 32
    assert pending(rt) == 0

    receiver.start()
    again = webhooks.redeliver(rt, tenant.id, given_up.id)
    assert (again.state, again.redelivery_of, again.payload) == (
        PENDING,
        given_up.id,
        given_up.payload,
    )
    assert worker.drain_once() == Drained(delivered=1)
    (got,) = receiver.requests
    assert got.event_id == event.id
    assert got.body == given_up.payload.encode()
    assert webhooks.get_delivery(rt, tenant.id, given_up.id).state == FAILED


def test_redirects_are_not_followed(rt: Runtime, tenant: Tenant, receiver: Receiver) -> None:
    receiver.status = 302
    receiver.start()
    webhooks.create_endpoint(rt, tenant.id, url=receiver.url)
    record(rt, tenant.id)
    assert worker_for(rt).drain_once() == Drained(failed=1)
    assert len(receiver.requests) == 1  # the Location was not requested
    (delivery,) = webhooks.list_deliveries(rt, tenant.id)
    assert delivery.last_status == 302
    assert delivery.last_error == "HTTP 302: redirects are not followed"


def test_manual_redelivery_send_test_and_paused_endpoints(
    rt: Runtime, clock: FakeClock, tenant: Tenant, receiver: Receiver, vendor_verifier: Path
) -> None:
    receiver.start()
    endpoint, secret = webhooks.create_endpoint(rt, tenant.id, url=receiver.url)
    record(rt, tenant.id)
    worker = worker_for(rt)
    assert worker.drain_once() == Drained(delivered=1)
    (original,) = webhooks.list_deliveries(rt, tenant.id)

    copy = webhooks.redeliver(rt, tenant.id, original.id)
    assert copy.id != original.id
    assert copy.event_id == original.event_id
    clock.advance(seconds=61)  # a later attempt: a fresh timestamp, the same body
    assert worker.drain_once() == Drained(delivered=1)
    first, second = receiver.requests
    assert first.body == second.body
    assert first.headers["X-Signature-V2"] != second.headers["X-Signature-V2"]

    other, _ = tenants.create(rt, rp_id="localhost", origins=[ORIGIN])
    with pytest.raises(webhooks.WebhookDeliveryNotFound):
        webhooks.redeliver(rt, other.id, original.id)
    with pytest.raises(webhooks.WebhookDeliveryNotFound):
        webhooks.list_attempts(rt, other.id, original.id)

    test = webhooks.send_test(rt, tenant.id, endpoint.id)
    assert test.event_type == "webhook.test"
    assert worker.drain_once() == Drained(delivered=1)
    (result,) = sdk_verify(
        vendor_verifier,
        [
            {
                "secret": secret,
                "body": receiver.requests[-1].body.decode(),
                "header": receiver.requests[-1].headers["X-Signature-V2"],
            }
        ],
    )
    assert result["ok"]
    assert result["event"]["type"] == "webhook.test"

    # A disabled endpoint is paused: its pending deliveries wait, it gets no new ones, and it
    # refuses redelivery.
    paused = record(rt, tenant.id)
    webhooks.update_endpoint(rt, tenant.id, endpoint.id, enabled=False)
    webhooks.update_endpoint(rt, tenant.id, endpoint.id, event_types=[])  # still disabled
    record(rt, tenant.id)
    with pytest.raises(Conflict) as refused:
        webhooks.redeliver(rt, tenant.id, original.id)
    assert refused.value.code == "webhook_endpoint_disabled"
    assert worker.drain_once() == Drained()
    webhooks.update_endpoint(rt, tenant.id, endpoint.id, enabled=True)
    assert worker.drain_once() == Drained(delivered=1)
    assert len(receiver.requests) == 4
    assert receiver.requests[-1].event_id == paused.id

    # The log pages newest first.
    everything = webhooks.list_deliveries(rt, tenant.id)
    assert len(everything) == 4
    page = webhooks.list_deliveries(rt, tenant.id, limit=3)
    rest = webhooks.list_deliveries(rt, tenant.id, before=page[-1], limit=3)
    assert page + rest == everything
    assert webhooks.list_deliveries(rt, tenant.id, event_id=original.event_id) == [
        d for d in everything if d.event_id == original.event_id
    ]

    assert [d.state for d in webhooks.list_deliveries(rt, tenant.id, state=DELIVERED)] == [
        DELIVERED
    ] * 4
    assert webhooks.list_deliveries(rt, tenant.id, state=FAILED) == []
    with pytest.raises(InvalidRequest):
        webhooks.list_deliveries(rt, tenant.id, state="lost")

    # Retention: finished deliveries older than the cut go, with their log.
    clock.advance(days=30)
    record(rt, tenant.id)  # pending: kept whatever its age
    assert webhooks.prune(rt, older_than=timedelta(days=7), tenant_id=other.id) == 0
    assert webhooks.prune(rt, older_than=timedelta(days=7)) == 4
    assert [d.state for d in webhooks.list_deliveries(rt, tenant.id)] == [PENDING]

    webhooks.delete_endpoint(rt, tenant.id, endpoint.id)  # its deliveries and log go with it
    assert deliveries(rt) == []
    with rt.read() as conn:
        assert conn.execute(select(webhook_attempts)).all() == []


def test_a_rotated_secret_signs_alongside_the_new_one_until_the_grace_ends(
    rt: Runtime, clock: FakeClock, tenant: Tenant, receiver: Receiver, vendor_verifier: Path
) -> None:
    receiver.start()
    endpoint, old = webhooks.create_endpoint(rt, tenant.id, url=receiver.url)
    rotated, new = webhooks.rotate_secret(rt, tenant.id, endpoint.id)
    assert new != old
    assert rotated.secret_prefix == new[:10]
    assert rotated.previous_secret_expires_at == clock.now + timedelta(hours=24)
    worker = worker_for(rt)
    record(rt, tenant.id)
    worker.drain_once()
    clock.advance(hours=24, seconds=1)
    record(rt, tenant.id)
    worker.drain_once()

    during, after = receiver.requests
    assert during.headers["X-Signature-V2"].count("v2=") == 2
    assert after.headers["X-Signature-V2"].count("v2=") == 1
    checks = [
        {"secret": secret, "body": r.body.decode(), "header": r.headers["X-Signature-V2"]}
        for r in (during, after)
        for secret in (new, old)
    ]
    assert [r["ok"] for r in sdk_verify(vendor_verifier, checks)] == [True, True, True, False]


# --- crashes, restarts, concurrent workers ------------------------------------------------------


def test_a_restart_with_deliveries_pending_loses_none(
    rt: Runtime, clock: FakeClock, tenant: Tenant, receiver: Receiver
) -> None:
    receiver.hold = threading.Event()
    receiver.start()
    webhooks.create_endpoint(rt, tenant.id, url=receiver.url)
    sent = [record(rt, tenant.id).id for _ in range(5)]

    worker = worker_for(rt, poll_seconds=60, lease_seconds=120)
    worker.start()
    assert receiver.entered.wait(5)  # one delivery in flight
    with ThreadPoolExecutor(1) as pool:
        stopped = pool.submit(worker.stop, 5)
        wait_for(lambda: worker.stopping)
        receiver.hold.set()
        assert stopped.result() is True
    assert len(receiver.requests) == 1  # the one in flight was finished, no further one taken
    assert pending(rt) == 4

    with rt.transaction() as conn:  # a second worker claims one, then its process dies
        (crashed,) = outbox.claim_due(conn, rt.now(), lease_seconds=120, limit=1)

    restarted = Runtime(engine=rt.engine, clock=clock, master_key=rt.master_key)
    successor = worker_for(restarted, poll_seconds=60, concurrency=2)
    successor.start()  # its first pass runs at once
    try:
        wait_for(lambda: pending(rt) == 1)
        clock.advance(seconds=121)  # the dead worker's lease ends
        successor.wake()
        wait_for(lambda: pending(rt) == 0)
    finally:
        assert successor.stop()
    assert sorted(r.event_id for r in receiver.accepted()) == sorted(sent)
    assert webhooks.get_delivery(rt, tenant.id, crashed.id).attempts == 2
    # The dead worker's late report cannot undo the delivery.
    with rt.transaction() as conn:
        late = outbox.mark_failed(
            conn,
            crashed.id,
            status=None,
            error="late",
            next_attempt_at=rt.now(),
            leased_until=crashed.leased_until,
        )
        assert not late
        assert not outbox.mark_delivered(conn, crashed.id, rt.now(), 200)


@pytest.fixture(params=BACKENDS)
def two_runtimes(
    request: pytest.FixtureRequest, tmp_path: Path, clock: FakeClock
) -> Iterator[tuple[Runtime, Runtime]]:
    """Two runtimes (as two processes would have) on one database."""

    def pair(url: str) -> Iterator[tuple[Runtime, Runtime]]:
        engines = [make_engine(url), make_engine(url)]
        migrate.upgrade(engines[0])
        try:
            key = secrets.token_bytes(32)
            yield (
                Runtime(engine=engines[0], clock=clock, master_key=key),
                Runtime(engine=engines[1], clock=clock, master_key=key),
            )
        finally:
            for engine in engines:
                engine.dispose()

    if request.param == "postgresql":
        with postgres_schema() as url:
            yield from pair(url)
    else:
        yield from pair(f"sqlite:///{tmp_path / 'shared.db'}")


def test_two_workers_draining_concurrently_never_deliver_one_twice(
    two_runtimes: tuple[Runtime, Runtime], receiver: Receiver
) -> None:
    first, second = two_runtimes
    receiver.delay = 0.002  # so the workers really overlap
    receiver.start()
    tenant, _ = tenants.create(first, rp_id="localhost", origins=[ORIGIN])
    webhooks.create_endpoint(first, tenant.id, url=receiver.url)
    sent = [record(first, tenant.id).id for _ in range(30)]
    workers = [worker_for(first), worker_for(second)]
    barrier = threading.Barrier(2)

    def drain(worker: WebhookWorker) -> Drained:
        barrier.wait()
        return worker.drain_once()

    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(drain, workers))

    assert sum(r.delivered for r in results) == 30
    assert all(r.failed == 0 for r in results)
    assert sorted(r.event_id for r in receiver.requests) == sorted(sent)
    assert {d.attempts for d in deliveries(first)} == {1}


def test_the_running_worker_prunes_the_delivery_log_after_30_days(
    rt: Runtime, clock: FakeClock, tenant: Tenant, receiver: Receiver
) -> None:
    receiver.start()
    webhooks.create_endpoint(rt, tenant.id, url=receiver.url)
    record(rt, tenant.id)
    worker = worker_for(rt, poll_seconds=0.05, prune_every_seconds=0.05)
    worker.start()
    try:
        wait_for(lambda: [d.state for d in webhooks.list_deliveries(rt, tenant.id)] == [DELIVERED])
        clock.advance(days=29)
        time.sleep(0.2)  # a few pruning passes: not old enough yet
        assert len(webhooks.list_deliveries(rt, tenant.id)) == 1
        clock.advance(days=1, seconds=1)
        wait_for(lambda: webhooks.list_deliveries(rt, tenant.id) == [])
    finally:
        assert worker.stop()
    with rt.read() as conn:
        assert conn.execute(select(webhook_attempts)).all() == []


def test_build_worker_follows_the_settings(rt: Runtime) -> None:
    worker = build_worker(rt, Settings())
    assert worker is not None
    assert worker.client.follow_redirects is False
    assert worker.client.timeout.read == 10.0
    assert worker.poll_seconds == 1.0
    assert worker.allow_private is False  # no webhook to this machine or its network
    assert build_worker(rt, Settings(webhooks=False)) is None
    allowing = build_worker(rt, Settings(webhook_private_networks="allow"))
    assert allowing is not None
    assert allowing.allow_private is True
    with pytest.raises(ConfigError, match="LATCHKEY_WEBHOOK_PRIVATE_NETWORKS 'yes'"):
        config.from_env({"LATCHKEY_WEBHOOK_PRIVATE_NETWORKS": "yes"})
    env = {"LATCHKEY_WEBHOOKS": "off", "LATCHKEY_WEBHOOK_POLL_SECONDS": "0.5"}
    settings = config.from_env(env)
    assert (settings.webhooks, settings.webhook_poll_seconds) == (False, 0.5)
    assert config.from_env({}).webhooks is True
    with pytest.raises(ConfigError, match="LATCHKEY_WEBHOOKS='maybe' is not 'on' or 'off'"):
        config.from_env({"LATCHKEY_WEBHOOKS": "maybe"})
    with pytest.raises(ConfigError, match=r"LATCHKEY_WEBHOOK_POLL_SECONDS 0\.0 is outside"):
        config.from_env({"LATCHKEY_WEBHOOK_POLL_SECONDS": "0"})


def test_one_thread_polls_and_the_others_help_when_there_is_work(
    rt: Runtime, tenant: Tenant, receiver: Receiver
) -> None:
    # Each request waits until three are in flight at once: only helpers working in parallel
    # get past it.
    together = threading.Barrier(3, timeout=5)
    receiver.before_answer = together.wait
    receiver.start()
    webhooks.create_endpoint(rt, tenant.id, url=receiver.url)
    worker = worker_for(rt, concurrency=3, poll_seconds=0.05)
    with statements(rt) as seen:
        worker.start()
        try:
            time.sleep(0.5)  # idle: only the polling thread reads
            idle_reads = len(seen)
            sent = [record(rt, tenant.id).id for _ in range(3)]
            wait_for(lambda: len(receiver.accepted()) == 3)
        finally:
            assert worker.stop()
    assert idle_reads <= 18, idle_reads  # about 10 polls and 3 first passes; 30 if all polled
    assert not together.broken
    assert sorted(r.event_id for r in receiver.accepted()) == sorted(sent)


# --- a real `latchkey serve`, restarted with deliveries pending -----------------------------------


def register_passkeys(port: int, tenant: dict[str, str], count: int) -> None:
    """`count` passkey registrations through the ceremony API, as an app backend would."""
    origin = f"http://localhost:{port}"
    base = f"http://127.0.0.1:{port}/api/v1/tenants/{tenant['id']}"
    authenticator = SoftAuthenticator()
    with httpx.Client(base_url=base, auth=(tenant["secret_key"], ""), timeout=10) as http:
        for n in range(count):
            begun = http.post("/registration/options", json={"userId": f"user-{n}"}).json()
            credential = authenticator.create(begun["options"], origin=origin)
            body = {"challengeId": begun["challengeId"], "credential": credential}
            answer = http.post("/registration/verify", json=body)
            assert answer.status_code == 200, answer.text


LOCAL_RECEIVERS = {"LATCHKEY_WEBHOOK_PRIVATE_NETWORKS": "allow"}  # the receiver is on 127.0.0.1


def latchkey_cli(database_url: str, *args: str) -> Any:
    """`latchkey <args> --json` in its own process, as an operator runs it; its JSON output."""
    done = subprocess.run(
        [sys.executable, "-m", "latchkey.cli", *args, "--json"],
        env={**os.environ, "LATCHKEY_DATABASE_URL": database_url},
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return json.loads(done.stdout)


def test_serve_restarted_with_deliveries_pending_loses_none_and_sends_none_twice(
    database_url: str, tmp_path: Path, receiver: Receiver, vendor_verifier: Path
) -> None:
    port = free_port()
    tenant = create_tenant(database_url, [f"http://localhost:{port}"])
    made = latchkey_cli(
        database_url,
        "webhook",
        "create",
        tenant["id"],
        "--url",
        receiver.url,
        "--event",
        "passkey.*",
    )
    secret = made["secret"]
    receiver.hold = threading.Event()  # deliveries stay in flight until it is set
    receiver.start()
    fast = {"LATCHKEY_WEBHOOK_POLL_SECONDS": "0.2", **LOCAL_RECEIVERS}
    log = tmp_path / "first.log"

    with serving(database_url, port, env=fast, log=log) as first:
        register_passkeys(port, tenant, 6)
        assert receiver.entered.wait(10)  # the worker is delivering
        first.terminate()  # a restart: SIGTERM, as a service manager sends it
        wait_for(lambda: "Waiting for application shutdown" in log.read_text(), 10)
        receiver.hold.set()  # the deliveries in flight finish; no new one is started
        # uvicorn re-raises the signal once it has shut down cleanly.
        assert first.wait(30) in (0, -signal.SIGTERM)
        assert "Application shutdown complete" in log.read_text()
    in_flight = len(receiver.requests)
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            assert delivery_log.pending_count(conn) == 6 - in_flight > 0

        with serving(database_url, port, env=fast, log=tmp_path / "second.log"):
            wait_for(lambda: len(receiver.requests) >= 6, 20)
            time.sleep(0.5)  # time for a wrongful second delivery to show
        with engine.connect() as conn:
            rows = conn.execute(select(webhook_deliveries)).all()
    finally:
        engine.dispose()

    registered = sorted(r.event_id for r in rows)
    assert sorted(r.event_id for r in receiver.accepted()) == registered  # each exactly once
    assert len(set(registered)) == 6
    assert {(r.attempts, r.delivered_at is not None) for r in rows} == {(1, True)}
    checks = [
        {"secret": secret, "body": r.body.decode(), "header": r.headers["X-Signature-V2"]}
        for r in receiver.requests
    ]
    results = sdk_verify(vendor_verifier, checks)
    assert all(r["ok"] for r in results), results
    assert {r["event"]["type"] for r in results} == {event_kinds.PASSKEY_REGISTRATION}


def test_latchkey_demo_runs_the_webhook_worker(
    database_url: str, tmp_path: Path, receiver: Receiver
) -> None:
    receiver.start()
    ports = [str(free_port()) for _ in range(4)]
    command = [sys.executable, "-m", "latchkey.cli", "demo", "--port", ports[0]]
    command += ["--login-port", ports[1], "--app-port", ports[2], "--portal-port", ports[3]]
    with (tmp_path / "demo.log").open("w") as log:
        process = subprocess.Popen(
            command,
            env={**os.environ, **LOCAL_RECEIVERS, "LATCHKEY_DATABASE_URL": database_url},
            stdout=log,
            stderr=subprocess.STDOUT,
            text=True,
        )
        try:
            wait_healthy(f"http://127.0.0.1:{ports[0]}", process)
            (tenant,) = latchkey_cli(database_url, "tenant", "list")
            # Filtered: the creation is itself an event (admin.*), which this test does not want.
            made = latchkey_cli(
                database_url, "webhook", "create", tenant["id"], "--url", receiver.url,
                "--event", "passkey.*",
            )  # fmt: skip
            latchkey_cli(database_url, "webhook", "test", tenant["id"], made["id"])
            wait_for(lambda: len(receiver.accepted()) == 1, 10)
        finally:
            process.terminate()
            process.wait(timeout=15)
    (got,) = receiver.accepted()
    sent = signing.verify(
        made["secret"], got.headers["X-Signature-V2"], got.body, now=int(time.time())
    )
    assert (sent["type"], sent["tenantId"]) == ("webhook.test", tenant["id"])
