"""Operators can see attacks: wrong recovery codes, failed bot checks, password failures and
rate-limit refusals are events with their reason, counted on the portal overview's failure
chart; a flood of refusals writes one event per limited key and window, not one per request."""

from __future__ import annotations

import html
import re
from typing import Any

import pytest
from litestar.testing import TestClient
from sqlalchemy import select

from latchkey import event_kinds
from latchkey.models import Tenant
from latchkey.runtime import Runtime
from latchkey.runtime.ratelimit import Rule
from latchkey.services import pools
from latchkey.services.pools import recovery
from latchkey.store.tables import events
from tests.support.pools import PoolBrowser, make_pool, pool_error
from tests.support.portal import new_operator


@pytest.fixture
def tenant(tenant_and_secret: tuple[Tenant, str]) -> Tenant:
    return tenant_and_secret[0]


@pytest.fixture
def pool(rt: Runtime, tenant: Tenant) -> pools.Pool:
    return make_pool(rt, tenant, display_name="Example", email_sender="login@example.com")


@pytest.fixture
def visitor(client: TestClient, tenant: Tenant, pool: pools.Pool) -> PoolBrowser:
    return PoolBrowser(client, tenant.id, pool.id)


def failures(rt: Runtime, kind: str) -> list[Any]:
    with rt.engine.connect() as conn:
        return list(
            conn.execute(
                select(events)
                .where(events.c.kind == kind, events.c.outcome == "failure")
                .order_by(events.c.created_at)
            )
        )


def reasons_on_overview(rt: Runtime, client: TestClient, tenant: Tenant) -> dict[str, int]:
    """The overview's "Top failure reasons" table, as an operator sees it."""
    page = new_operator(rt, client).page(f"/portal/t/{tenant.id}").text
    table = page.split('id="reasons-title"', 1)[1].split("</table>", 1)[0]
    rows = re.findall(r"<tr><td><code>([^<]+)</code></td><td>(\d+)</td></tr>", table)
    return {html.unescape(reason): int(n) for reason, n in rows}


def test_wrong_recovery_codes_are_events_on_the_failure_chart(
    rt: Runtime, client: TestClient, visitor: PoolBrowser, tenant: Tenant
) -> None:
    assert visitor.sign_up("ada@example.com").status_code == 200
    assert visitor.post("recovery/begin", {"identifier": "ada@example.com"}).status_code == 200
    for _ in range(recovery.MAX_ATTEMPTS):
        wrong = visitor.post("recovery/verify", {"code": "000000"})
        pool_error(wrong, 400, "recovery_code_invalid")
    spent = visitor.post("recovery/verify", {"code": "000000"})
    pool_error(spent, 429, "recovery_attempts_exceeded")
    pool_error(visitor.post("recovery/link", {"token": "x" * 43}), 400, "recovery_code_invalid")
    found = failures(rt, event_kinds.POOL_RECOVERED)
    assert [e.reason for e in found] == [
        *["recovery_code_invalid"] * recovery.MAX_ATTEMPTS,
        "recovery_attempts_exceeded",
        "recovery_code_invalid",
    ]
    assert {(e.tenant_id, e.ip) for e in found} == {(tenant.id, "testclient")}
    # No account is named by a wrong guess (it would tell who has one).
    assert {e.user_id for e in found} == {None}
    shown = reasons_on_overview(rt, client, tenant)
    assert shown["recovery_code_invalid"] == recovery.MAX_ATTEMPTS + 1
    assert shown["recovery_attempts_exceeded"] == 1


def test_failed_bot_checks_are_events(
    rt: Runtime, client: TestClient, visitor: PoolBrowser, tenant: Tenant, pool: pools.Pool
) -> None:
    pools.configure(rt, tenant.id, pool.id, {"bot_check": True})
    pool_error(visitor.begin_signup("ada@example.com"), 400, "bot_check_required")
    forged = visitor.begin_signup("ada@example.com", altcha="Zm9yZ2Vk")
    pool_error(forged, 400, "bot_check_failed")
    refused = visitor.post("recovery/begin", {"identifier": "ada@example.com", "altcha": "e30="})
    pool_error(refused, 400, "bot_check_failed")
    signups = failures(rt, "pool.signed_up")
    assert [e.reason for e in signups] == ["bot_check_required", "bot_check_failed"]
    assert [e.reason for e in failures(rt, event_kinds.POOL_RECOVERY_REQUESTED)] == [
        "bot_check_failed"
    ]
    shown = reasons_on_overview(rt, client, tenant)
    assert shown["bot_check_failed"] == 2
    assert shown["bot_check_required"] == 1


def test_password_failures_are_on_the_failure_chart(
    rt: Runtime, client: TestClient, visitor: PoolBrowser, tenant: Tenant, pool: pools.Pool
) -> None:
    pools.configure(rt, tenant.id, pool.id, {"password": True})
    for _ in range(3):
        answer = visitor.post("login/password", {"identifier": "ada@example.com", "password": "x"})
        pool_error(answer, 401, "invalid_credentials")
    assert reasons_on_overview(rt, client, tenant) == {"invalid_credentials": 3}


def test_a_flood_of_rate_limit_refusals_is_one_event_per_window(
    rt: Runtime, client: TestClient, visitor: PoolBrowser, tenant: Tenant
) -> None:
    rt.limiter.per_ip = Rule(2, 60)
    answers = [visitor.post("login/webauthn/options", {}).status_code for _ in range(8)]
    assert answers == [200, 200, *[429] * 6]
    [refusal] = failures(rt, event_kinds.RATE_LIMITED)
    assert refusal.reason == "rate_limited"
    assert refusal.ip == "testclient"
    assert refusal.detail == {"limit": "pool"}
    assert reasons_on_overview(rt, client, tenant) == {"rate_limited": 1}


def test_a_refusal_that_cannot_be_recorded_is_still_a_429(
    rt: Runtime, visitor: PoolBrowser, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_: Any) -> None:
        raise RuntimeError("the database is away")

    monkeypatch.setattr(rt.limiter, "on_refused", broken)
    rt.limiter.per_ip = Rule(1, 60)
    assert visitor.post("login/webauthn/options", {}).status_code == 200
    pool_error(visitor.post("login/webauthn/options", {}), 429, "rate_limited")
