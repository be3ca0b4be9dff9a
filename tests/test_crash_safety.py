"""Crash safety: under a running load of registrations and sign-ins, the server is killed with
SIGKILL and restarted on the same database (SQLite in WAL mode, and PostgreSQL). Every
registration whose answer reached the client is there, nothing is half-written (no credential
without its user, no event or token pointing nowhere), no sign count went backwards, and the
service answers again within seconds."""

from __future__ import annotations

import base64
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select, text

from latchkey.store.engine import make_engine
from latchkey.store.tables import credentials
from latchkey.testing.authenticator import SoftAuthenticator
from tests.live_server import create_tenant, free_port, serving, wait_healthy
from tests.support.database import postgres_schema

ORIGIN = "http://localhost:5002"
WORKERS = 6

# `serial`: kill -9 under load measures what was acknowledged; it runs without a neighbour
# competing for the two cores (Makefile).
pytestmark = pytest.mark.serial


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'crash.db'}"
    else:
        with postgres_schema() as url:
            yield url


@dataclass
class Acknowledged:
    """What the clients were told succeeded, before the crash."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    registered: set[bytes] = field(default_factory=set)
    # credential id -> the highest sign count of an assertion the server accepted
    counts: dict[bytes, int] = field(default_factory=dict)


def load(
    url: str, tenant: dict[str, str], worker: int, done: Acknowledged, stop: threading.Event
) -> None:
    """Register a user, then sign in with it, again and again, until the server dies."""
    http = httpx.Client(base_url=f"{url}/v1", timeout=5)
    secret = base64.b64encode(f"{tenant['secret_key']}:".encode()).decode()
    backend = {"authorization": f"Basic {secret}"}
    browser = {"authorization": "Basic " + base64.b64encode(tenant["id"].encode()).decode()}
    authenticator = SoftAuthenticator(counter_step=1)
    n = 0
    while not stop.is_set():
        n += 1
        try:
            _register(http, backend, authenticator, f"w{worker}-{n}", done)
            _sign_in(http, browser, authenticator, done)
        except (httpx.TransportError, KeyError, ValueError, LookupError):
            if stop.is_set():
                return
            time.sleep(0.05)


def _register(
    http: httpx.Client,
    backend: dict[str, str],
    authenticator: SoftAuthenticator,
    user: str,
    done: Acknowledged,
) -> None:
    token = http.post(f"/users/{user}/actions/add-passkey", json={}, headers=backend).json()[
        "token"
    ]
    bearer = {"authorization": f"Bearer {token}"}
    begun = http.post(
        "/client/user-authenticators/passkey/registration-options", json={}, headers=bearer
    ).json()
    created = authenticator.create(begun["options"], origin=ORIGIN)
    answer = http.post(
        "/client/user-authenticators/passkey",
        json={"registrationCredential": created, "challengeId": begun["challengeId"]},
        headers=bearer,
    )
    if answer.status_code == 200:
        with done.lock:
            done.registered.add(base64.urlsafe_b64decode(created["rawId"] + "=="))


def _sign_in(
    http: httpx.Client,
    browser: dict[str, str],
    authenticator: SoftAuthenticator,
    done: Acknowledged,
) -> None:
    begun = http.post(
        "/client/user-authenticators/passkey/authentication-options", json={}, headers=browser
    ).json()
    assertion = authenticator.get(begun["options"], origin=ORIGIN)
    answer = http.post(
        "/client/verify/passkey",
        json={"authenticationCredential": assertion, "challengeId": begun["challengeId"]},
        headers=browser,
    )
    if answer.status_code == 200:
        raw = base64.urlsafe_b64decode(assertion["response"]["authenticatorData"] + "==")
        count = int.from_bytes(raw[33:37], "big")
        credential_id = base64.urlsafe_b64decode(assertion["rawId"] + "==")
        with done.lock:
            done.counts[credential_id] = max(done.counts.get(credential_id, 0), count)


def orphans(database_url: str) -> dict[str, int]:
    """Rows that point at nothing (what a half-written registration or ceremony would leave)."""
    # (child table, its reference, parent table): a reference set but its row gone.
    links = [
        ("credentials", "user_id", "users"),
        ("user_identifiers", "user_id", "users"),
        ("events", "user_id", "users"),
        ("events", "credential_id", "credentials"),
        ("tokens", "action_id", "actions"),
        ("actions", "user_id", "users"),
    ]
    checks = {
        f"{child}.{ref} -> {parent}": (
            # Table names from the list above, never from input.
            f"SELECT count(*) FROM {child} c LEFT JOIN {parent} p ON p.id = c.{ref}"  # noqa: S608
            f" WHERE c.{ref} IS NOT NULL AND p.id IS NULL"
        )
        for child, ref, parent in links
    }
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            return {name: int(conn.execute(text(sql)).scalar_one()) for name, sql in checks.items()}
    finally:
        engine.dispose()


def stored_counts(database_url: str) -> dict[bytes, int]:
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(select(credentials.c.credential_id, credentials.c.sign_count))
            return {bytes(r.credential_id): int(r.sign_count) for r in rows}
    finally:
        engine.dispose()


@pytest.mark.parametrize("crashes", [2])
def test_kill_9_under_load_loses_nothing_acknowledged(database_url: str, crashes: int) -> None:
    tenant = create_tenant(database_url, [ORIGIN])
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    done = Acknowledged()
    for _ in range(crashes):
        stop = threading.Event()
        with serving(database_url, port) as process:
            threads = [
                threading.Thread(target=load, args=(url, tenant, i, done, stop))
                for i in range(WORKERS)
            ]
            for thread in threads:
                thread.start()
            time.sleep(2.5)  # the load runs
            process.kill()  # SIGKILL: no shutdown, no flush
            process.wait()
            stop.set()
            for thread in threads:
                thread.join(timeout=30)
        assert not any(t.is_alive() for t in threads)

    assert len(done.registered) > 10, "the load did not get going"
    stored = stored_counts(database_url)
    lost = done.registered - set(stored)
    assert lost == set(), f"{len(lost)} acknowledged registrations are missing"
    went_back = {c: (n, stored.get(c)) for c, n in done.counts.items() if stored.get(c, -1) < n}
    assert went_back == {}
    assert orphans(database_url) == dict.fromkeys(orphans(database_url), 0)

    # Back within seconds, and working.
    started = time.monotonic()
    with serving(database_url, port) as process:
        wait_healthy(url, process, timeout=15)
        assert time.monotonic() - started < 15
        acknowledged_now = Acknowledged()
        _register(
            httpx.Client(base_url=f"{url}/v1", timeout=5),
            {
                "authorization": "Basic "
                + base64.b64encode(f"{tenant['secret_key']}:".encode()).decode()
            },
            SoftAuthenticator(),
            "after-the-crash",
            acknowledged_now,
        )
        assert len(acknowledged_now.registered) == 1
