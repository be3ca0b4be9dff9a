"""The runtime's transactions and caches: reads beside a write on SQLite, writers queued in
process, and time-bounded caches that forget what this process changed."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import text

from latchkey.models import Tenant
from latchkey.runtime import Runtime
from latchkey.runtime.cache import TTLCache
from latchkey.services import api_keys, tenants


def test_ttl_cache_expires_and_forgets() -> None:
    cache: TTLCache[str, int] = TTLCache(ttl=0.05)
    calls: list[int] = []

    def load() -> int:
        calls.append(1)
        return len(calls)

    assert cache.get("k", load) == 1
    assert cache.get("k", load) == 1
    time.sleep(0.06)
    assert cache.get("k", load) == 2
    cache.forget("k")
    assert cache.get("k", load) == 3


def test_a_read_proceeds_while_a_write_is_open(rt: Runtime) -> None:
    entered, release = threading.Event(), threading.Event()

    def writer() -> None:
        with rt.transaction() as conn:
            conn.execute(text("SELECT 1"))
            entered.set()
            release.wait(5)

    thread = threading.Thread(target=writer)
    thread.start()
    assert entered.wait(5)
    started = time.monotonic()
    with rt.read() as conn:
        assert conn.execute(text("SELECT 1")).scalar() == 1
    assert time.monotonic() - started < 1.0  # not queued behind the writer
    release.set()
    thread.join()


def test_tenant_cache_sees_this_process_changes_at_once(
    rt: Runtime, tenant_and_secret: tuple[Tenant, str]
) -> None:
    tenant, secret = tenant_and_secret
    assert tenants.get(rt, tenant.id).rp_name == "Test"
    tenants.update(rt, tenant.id, rp_name="Renamed")
    assert tenants.get(rt, tenant.id).rp_name == "Renamed"
    assert api_keys.tenant_for_secret(rt, secret) == tenant.id


@pytest.mark.parametrize("migrated_engine", ["sqlite"], indirect=True)
def test_writers_are_serialized_in_process(rt: Runtime) -> None:
    inside, overlaps = [0], [0]
    lock = threading.Lock()

    def write() -> None:
        with rt.transaction() as conn:
            with lock:
                inside[0] += 1
                overlaps[0] = max(overlaps[0], inside[0])
            conn.execute(text("SELECT 1"))
            time.sleep(0.01)
            with lock:
                inside[0] -= 1

    threads = [threading.Thread(target=write) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert overlaps[0] == 1
