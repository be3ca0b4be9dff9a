"""The passkey-adoption funnel's figures against a scripted event log, exactly, on SQLite and
PostgreSQL: per pool, for the whole tenant, inside the period only, never another tenant's."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from latchkey.models import Tenant
from latchkey.runtime import Runtime
from latchkey.services import adoption, directories, metadata, tenants
from tests.support.adoption import (
    CHROME_ANDROID,
    CHROME_WINDOWS,
    FIREFOX_LINUX,
    GOOGLE,
    ICLOUD,
    SAFARI_MAC,
    YUBIKEY,
    Script,
)
from tests.support.clock import FakeClock
from tests.web_parties import ORIGIN


@pytest.fixture
def scripted(rt: Runtime, clock: FakeClock) -> tuple[Tenant, str, str, datetime, datetime]:
    """Pool A: three users signing in five ways, the offer, four failures; pool B: one
    autofill sign-in and a failure; plus an event before the period and another tenant's."""
    tenant, _ = tenants.create(rt, rp_id="localhost", rp_name="Shop", origins=[ORIGIN])
    a = directories.create(rt, tenant.id, "a", {"email": "required"}).id
    b = directories.create(rt, tenant.id, "b", {"email": "required"}).id
    s = Script(rt, tenant)
    ann, bob, cat, dan = (s.user(a, "ann"), s.user(a, "bob"), s.user(a, "cat"),
                          s.user(b, "dan"))  # fmt: skip
    ann_key = s.passkey(ann, ICLOUD, synced=True)
    bob_key = s.passkey(bob, YUBIKEY, synced=False)
    dan_key = s.passkey(dan, GOOGLE, synced=True)
    # Before the period: counted nowhere.
    s.event("pool.signed_in", a, user_id=ann, credential_id=ann_key, method="autofill",
            elapsed_ms=99, agent=SAFARI_MAC)  # fmt: skip
    clock.advance(hours=1)
    since = clock.now
    for _ in range(5):
        s.event("pool.page_loaded", a, flow_id="f")
    s.event("pool.signed_in", a, user_id=ann, credential_id=ann_key, method="autofill",
            elapsed_ms=1000, agent=SAFARI_MAC)  # fmt: skip
    s.event("pool.signed_in", a, user_id=ann, credential_id=ann_key, method="button",
            elapsed_ms=3000, agent=SAFARI_MAC)  # fmt: skip
    s.event("pool.signed_in", a, user_id=bob, credential_id=bob_key, method="identifier",
            elapsed_ms=2000, agent=CHROME_WINDOWS)  # fmt: skip
    s.event("pool.password_sign_in", a, user_id=cat, method="password", elapsed_ms=8000,
            agent=FIREFOX_LINUX)  # fmt: skip
    s.event("pool.recovered", a, user_id=bob, agent=CHROME_WINDOWS)
    s.event("pool.passkey_offer_shown", a, user_id=cat)
    s.event("pool.passkey_offer_shown", a, user_id=cat)
    s.event("pool.passkey_offer_accepted", a, user_id=cat)
    s.event("pool.passkey_offer_declined", a, user_id=cat)
    s.event("passkey.authentication", a, reason="credential_not_found")
    s.event("pool.password_sign_in", a, reason="invalid_credentials", user_id=cat)
    s.event("pool.password_sign_in", a, reason="invalid_credentials")
    s.event("pool.recovery_requested", a, reason="bot_check_failed")
    # Not sign-in figures: a sign-up and a passkey added.
    s.event("pool.signed_up", a, user_id=cat)
    s.event("passkey.registration", None, user_id=ann, credential_id=ann_key)
    s.event("pool.signed_in", b, user_id=dan, credential_id=dan_key, method="autofill",
            elapsed_ms=500, agent=CHROME_ANDROID)  # fmt: skip
    s.event("passkey.authentication", b, reason="user_verification_required")
    other, _ = tenants.create(rt, rp_id="localhost", rp_name="Other", origins=[ORIGIN])
    Script(rt, other).event("pool.page_loaded", None)
    clock.advance(hours=1)
    until = clock.now
    # After the period.
    s.event("pool.page_loaded", a)
    return tenant, a, b, since, until


def test_a_pools_funnel_is_exact(rt: Runtime, scripted: Any) -> None:
    tenant, a, _, since, until = scripted
    found = adoption.funnel(rt, tenant.id, since=since, until=until, pool_id=a)
    assert (found.pages_loaded, found.users_signed_in, found.users_with_passkey) == (5, 3, 2)
    assert found.sign_ins == 5
    assert (found.offers_shown, found.offers_accepted, found.offers_declined) == (2, 1, 1)
    assert found.methods == [("autofill", 1), ("button", 1), ("identifier", 1), ("passkey", 0),
                             ("password", 1), ("recovery", 1)]  # fmt: skip
    # Timed: 1000, 2000, 3000, 8000 ms: the 2nd is the median, the 4th the 90th percentile.
    assert (found.median_ms, found.p90_ms, found.timed) == (2000, 8000, 4)
    assert found.failures == 4
    assert found.failure_reasons == [("invalid_credentials", 2), ("bot_check_failed", 1),
                                     ("credential_not_found", 1)]  # fmt: skip
    assert found.failure_steps == [("password", 2), ("passkey", 1), ("recovery_request", 1)]
    assert found.operating_systems == [("Mac OS X", 2), ("Windows", 2), ("Linux", 1)]
    assert found.browsers == [("Chrome", 2), ("Safari", 2), ("Firefox", 1)]
    yubikey = metadata.name_of(rt, YUBIKEY)
    assert found.providers == [("iCloud Keychain", 2), (yubikey, 1)]
    assert (found.synced, found.device_bound) == (2, 1)


def test_the_tenants_funnel_counts_every_pool(rt: Runtime, scripted: Any) -> None:
    tenant, _, _, since, until = scripted
    found = adoption.funnel(rt, tenant.id, since=since, until=until)
    assert (found.pages_loaded, found.users_signed_in, found.users_with_passkey) == (5, 4, 3)
    assert found.sign_ins == 6
    assert dict(found.methods)["autofill"] == 2
    # Timed: 500, 1000, 2000, 3000, 8000: ranks 3 and 5.
    assert (found.median_ms, found.p90_ms, found.timed) == (2000, 8000, 5)
    assert found.failures == 5
    assert dict(found.failure_reasons)["user_verification_required"] == 1
    assert found.operating_systems == [("Mac OS X", 2), ("Windows", 2), ("Android", 1),
                                       ("Linux", 1)]  # fmt: skip
    assert found.providers[0] == ("iCloud Keychain", 2)
    assert sorted(found.providers[1:]) == sorted([("Google Password Manager", 1),
                                                  (metadata.name_of(rt, YUBIKEY), 1)])  # fmt: skip
    assert (found.synced, found.device_bound) == (3, 1)


def test_an_empty_period_has_no_figures(rt: Runtime, scripted: Any) -> None:
    tenant, a, _, _, until = scripted
    later = until + timedelta(days=1)
    found = adoption.funnel(rt, tenant.id, since=later, until=later + timedelta(days=1), pool_id=a)
    assert (found.pages_loaded, found.users_signed_in, found.sign_ins, found.failures) == (0,) * 4
    assert (found.median_ms, found.p90_ms, found.timed) == (None, None, 0)
    assert found.methods == [(m, 0) for m in adoption.METHODS]
    assert found.providers == found.operating_systems == found.failure_reasons == []


def test_upgrade_copies_the_figures_fields_of_existing_events(engine: Any) -> None:
    """Migration 0026 fills the new columns of events written before it from their detail:
    what the figures read from the JSON before, they read from the columns after."""
    from datetime import UTC

    from sqlalchemy import text

    from latchkey.store import migrate

    migrate.upgrade(engine, "0025")
    now = datetime.now(UTC)
    event = text(
        "INSERT INTO events (id, tenant_id, kind, outcome, detail, created_at)"
        " VALUES (:id, 't1', 'pool.signed_in', 'success', :detail, :now)"
    )
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO tenants (id, name, rp_id, rp_name, origins, policy, created_at,"
                " updated_at, related_origins)"
                " VALUES ('t1', 'T', 'localhost', 'T', '[]', '{}', :now, :now, '[]')"
            ),
            {"now": now},
        )
        details = {
            "e1": '{"pool_id": "d1", "method": "autofill", "elapsed_ms": 1234}',
            "e2": '{"pool_id": "d2"}',
            "e3": "{}",
        }
        for event_id, detail in details.items():
            conn.execute(event, {"id": event_id, "detail": detail, "now": now})
    migrate.upgrade(engine)
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT id, pool_id, method, elapsed_ms FROM events ORDER BY id")
        ).all()
    assert [tuple(r) for r in rows] == [
        ("e1", "d1", "autofill", 1234),
        ("e2", "d2", None, None),
        ("e3", None, None, None),
    ]
