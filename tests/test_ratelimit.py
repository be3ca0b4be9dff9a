"""Rate limits on the native challenge endpoints: 429 with Retry-After in the OAuth shape,
counted per client IP, and shared across workers through Redis."""

from __future__ import annotations

import base64
import logging
import os
import secrets
import threading
from pathlib import Path

import pytest
from litestar.testing import TestClient

from latchkey.api.app import create_app
from latchkey.config import Settings
from latchkey.errors import ConfigError
from latchkey.models import Tenant
from latchkey.runtime import Runtime, build
from latchkey.runtime.ratelimit import (
    DatabaseCounter,
    Limiter,
    MemoryCounter,
    RateLimited,
    RedisCounter,
    Rule,
)
from latchkey.runtime.synced_counter import SyncedCounter
from latchkey.services import apps, tenants
from latchkey.store.engine import make_engine
from tests.support.limits import with_limits

REDIS_URL = os.environ.get("LATCHKEY_TEST_REDIS_URL")


def test_rule_parsing() -> None:
    assert Rule.parse("30/60") == Rule(30, 60)
    for bad in ("0/60", "x", "5/0"):
        with pytest.raises(ValueError, match=r"rate limit|invalid literal"):
            Rule.parse(bad)


def test_memory_limiter_counts_per_key() -> None:
    limiter = Limiter(MemoryCounter())
    rule = Rule(3, 60)
    for _ in range(3):
        limiter.hit("ip:1", rule)
    with pytest.raises(RateLimited) as refused:
        limiter.hit("ip:1", rule)
    assert 1 <= refused.value.retry_after <= 60
    limiter.hit("ip:2", rule)  # another client is not affected


def test_challenge_endpoint_answers_429(rt: Runtime, tenant_and_secret: tuple[Tenant, str]) -> None:
    limited = with_limits(rt, per_ip=Rule(2, 60))
    app, _ = apps.create(
        limited, tenant_and_secret[0].id, name="M", grant_types=[apps.PASSKEY_GRANT]
    )
    path = f"/t/{tenant_and_secret[0].id}/passkey/challenge"
    with TestClient(create_app(limited, Settings())) as client:
        for _ in range(2):
            assert client.post(path, json={"client_id": app.client_id}).status_code == 200
        refused = client.post(path, json={"client_id": app.client_id})
    assert refused.status_code == 429
    assert int(refused.headers["retry-after"]) >= 1
    assert refused.json()["error"] == "too_many_requests"
    assert refused.json()["error_description"]


@pytest.mark.skipif(not REDIS_URL, reason="Redis tests skipped: set LATCHKEY_TEST_REDIS_URL")
def test_redis_counts_are_shared_between_workers() -> None:
    assert REDIS_URL
    key = f"test:{secrets.token_hex(4)}"
    rule = Rule(2, 60)
    worker_a, worker_b = Limiter(RedisCounter(REDIS_URL)), Limiter(RedisCounter(REDIS_URL))
    worker_a.hit(key, rule)
    worker_b.hit(key, rule)
    with pytest.raises(RateLimited):
        worker_a.hit(key, rule)


def test_unreachable_redis_does_not_block_sign_ins(caplog: pytest.LogCaptureFixture) -> None:
    """Limits are a brake, not a gate: with Redis away every hit passes (five over a limit of
    one) and each says so in the log, naming the kind of key but not the key."""
    counter = RedisCounter("redis://127.0.0.1:9/0")
    limiter = Limiter(counter)
    with caplog.at_level(logging.WARNING, logger="latchkey"):
        for _ in range(5):
            limiter.hit("ip:203.0.113.9", Rule(1, 60))
        assert counter.incr("ip:203.0.113.9", 60) == 0  # counted as nothing
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warnings == ["rate limit store unreachable; not counting ip"] * 6


def test_pool_endpoints_are_limited_per_tenant_whatever_the_address(
    rt: Runtime, tenant_and_secret: tuple[Tenant, str]
) -> None:
    limited = with_limits(rt, per_ip=Rule(1000, 60), per_tenant=Rule(3, 60))
    tenant = tenant_and_secret[0]
    other, _ = tenants.create(
        limited, rp_id="localhost", rp_name="O", origins=["http://x.localhost"]
    )
    with TestClient(create_app(limited, Settings())) as client:
        paths = [f"/{t.id}/identity/default/login/webauthn/options" for t in (tenant, other)]
        for _ in range(3):
            assert client.post(paths[0], json={}).status_code == 200
        refused = client.post(paths[0], json={})
        # Another tenant's budget is its own.
        assert client.post(paths[1], json={}).status_code == 200
    assert refused.status_code == 429
    assert refused.json()["error_code"] == "rate_limited"
    assert refused.json()["status_code"] == 429
    assert int(refused.headers["retry-after"]) >= 1


def test_database_counts_are_shared_between_workers(rt: Runtime) -> None:
    """Two workers (two engines, as two processes have) on one database, hitting at once."""
    other = make_engine(rt.engine.url.render_as_string(hide_password=False))
    try:
        workers = [Limiter(DatabaseCounter(rt.engine)), Limiter(DatabaseCounter(other))]
        rule = Rule(40, 60)
        key = f"test:{secrets.token_hex(4)}"
        refused: list[RateLimited] = []

        def hit(worker: Limiter) -> None:
            for _ in range(25):
                try:
                    worker.hit(key, rule)
                except RateLimited as exc:
                    refused.append(exc)

        threads = [threading.Thread(target=hit, args=(w,)) for w in workers * 2]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        other.dispose()
    # 100 hits against a limit of 40: exactly 60 refused, wherever they were counted.
    assert len(refused) == 60
    assert DatabaseCounter(rt.engine).incr("fresh:" + key, 60) == 1


def test_the_store_follows_the_database(tmp_path: Path) -> None:
    sqlite_url = f"sqlite:///{tmp_path / 'x.db'}"
    assert isinstance(
        build(Settings(database_url=sqlite_url, master_key=bytes(32))).limiter.counter,
        MemoryCounter,
    )
    shared = build(
        Settings(database_url=sqlite_url, master_key=bytes(32), rate_limit_store="database")
    )
    assert isinstance(shared.limiter.counter, SyncedCounter)  # tests/test_synced_counter.py
    with pytest.raises(ConfigError, match="LATCHKEY_REDIS_URL"):
        build(Settings(database_url=sqlite_url, master_key=bytes(32), rate_limit_store="redis"))


def test_anonymous_web_sign_ins_are_limited_in_the_v1_shape(
    rt: Runtime, tenant_and_secret: tuple[Tenant, str]
) -> None:
    limited = with_limits(rt, per_ip=Rule(2, 60))
    tenant = tenant_and_secret[0]
    basic = {"authorization": "Basic " + base64.b64encode(tenant.id.encode()).decode()}
    path = "/v1/client/user-authenticators/passkey/authentication-options"
    with TestClient(create_app(limited, Settings())) as client:
        answers = [client.post(path, json={}, headers=basic) for _ in range(3)]
        verify = client.post(
            "/v1/client/verify/passkey",
            json={"authenticationCredential": {}, "challengeId": "x"},
            headers=basic,
        )
    assert [a.status_code for a in answers] == [200, 200, 429]
    assert answers[2].json()["error"] == "too_many_requests"
    assert answers[2].json()["errorCode"] == "rate_limited"
    assert int(answers[2].headers["retry-after"]) >= 1
    assert verify.status_code == 429  # verify counts against the same budget


class _Recorded(MemoryCounter):
    """Counts in memory and remembers each key it was asked to count, in order."""

    def __init__(self) -> None:
        super().__init__()
        self.keys: list[str] = []

    def incr(self, key: str, window: int) -> int:
        self.keys.append(key)
        return super().incr(key, window)


def test_limit_counts_the_address_and_the_tenant() -> None:
    counter = _Recorded()
    limiter = Limiter(counter, per_ip=Rule(2, 60), per_tenant=Rule(3, 60))
    limiter.limit("pool", ip="203.0.113.1", tenant_id="t1")
    assert counter.keys == ["pool:ip:203.0.113.1", "pool:tenant:t1"]
    limiter.limit("pool", ip="203.0.113.1", tenant_id="t1")
    with pytest.raises(RateLimited):  # the address's third in the window
        limiter.limit("pool", ip="203.0.113.1", tenant_id="t1")
    limiter.limit("pool", ip="203.0.113.2", tenant_id="t2")  # another tenant's count
    limiter.limit("pool", ip="203.0.113.3", tenant_id="t1")  # a refused hit was not counted
    with pytest.raises(RateLimited):  # the tenant's fourth, from a fresh address
        limiter.limit("pool", ip="203.0.113.4", tenant_id="t1")
    limiter.limit("native-challenge", ip="203.0.113.1", tenant_id="t1")  # its own surface


def test_limit_without_a_tenant_counts_the_address_only() -> None:
    counter = _Recorded()
    limiter = Limiter(counter, per_ip=Rule(1, 60), per_tenant=Rule(1, 60))
    limiter.limit("portal", ip=None)
    assert counter.keys == ["portal:ip:unknown"]
    with pytest.raises(RateLimited):
        limiter.limit("portal", ip=None)


def test_limit_of_an_account_counts_that_account_alone() -> None:
    counter = _Recorded()
    reported: list[tuple[str, str | None, str]] = []
    limiter = Limiter(counter, per_ip=Rule(1, 60), per_tenant=Rule(1, 60))
    limiter.on_refused = lambda *report: reported.append(report)

    def guess(ip: str) -> None:
        limiter.limit(
            "pool-password", ip=ip, tenant_id="t1", account="p1:ada", per_account=Rule(2, 900)
        )

    guess("198.51.100.7")  # twice: above the address and tenant rules, not counted here
    guess("198.51.100.7")
    with pytest.raises(RateLimited) as refused:
        guess("198.51.100.8")
    assert counter.keys == ["pool-password:p1:ada"] * 3
    assert refused.value.first is True
    assert reported == [("t1", "198.51.100.8", "pool-password")]


def test_an_account_needs_its_rule() -> None:
    limiter = Limiter(_Recorded())
    with pytest.raises(ValueError, match="its own rule"):
        limiter.limit("pool-password", ip=None, tenant_id="t1", account="p1:ada")


def test_the_runtime_takes_its_rules_from_the_settings(tmp_path: Path) -> None:
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'rules.db'}",
        master_key=bytes(32),
        challenge_rate_limit="7/30",
        tenant_rate_limit="900/60",
    )
    limiter = build(settings).limiter
    assert (limiter.per_ip, limiter.per_tenant) == (Rule(7, 30), Rule(900, 60))


def test_windows_and_retry_after_follow_the_counters_clock() -> None:
    now = [1_800_000_030.0]  # 30 s into a 60-second window
    limiter = Limiter(MemoryCounter(clock=lambda: now[0]), per_ip=Rule(1, 60))
    limiter.limit("pool", ip="192.0.2.1")
    with pytest.raises(RateLimited) as refused:
        limiter.limit("pool", ip="192.0.2.1")
    assert refused.value.retry_after == 30
    now[0] += 29.5  # still the same window
    with pytest.raises(RateLimited) as again:
        limiter.limit("pool", ip="192.0.2.1")
    assert (again.value.retry_after, again.value.first) == (1, False)
    now[0] += 0.5  # the next window: counted from one again
    limiter.limit("pool", ip="192.0.2.1")
