"""Every unauthenticated write is pruned once it is past its use (issue 21 item 8): the
background worker deletes expired challenges, flows, bot-check spends, authorization codes,
portal challenges, sessions, links and tokens, and the tables shrink; what is still live stays,
and the owner signs in as before."""

from __future__ import annotations

import hashlib
import secrets
import time
from datetime import datetime, timedelta

import pytest
from litestar.testing import TestClient
from sqlalchemy import func, select

from latchkey.ids import new_id
from latchkey.mail.message import OutgoingMail
from latchkey.models import Tenant
from latchkey.runtime import RequestMeta, Runtime, ratelimit
from latchkey.services import apps, pools, pruning, sealed_challenges, tenant_passkeys
from latchkey.services import users as user_service
from latchkey.services.operators import accounts, sessions
from latchkey.services.retention import RetentionWorker
from latchkey.store import authorization_codes, mail_outbox
from latchkey.store import refresh_tokens as refresh_store
from latchkey.store.tables import (
    authorization_codes as code_table,
)
from latchkey.store.tables import (
    botcheck_spent,
    challenges,
    flows,
    operator_enrolments,
    portal_sessions,
    rate_limits,
    recovery_codes,
    refresh_tokens,
    sso_sessions,
    tokens,
    used_challenges,
    users,
)
from latchkey.store.tables import mail_outbox as mail_outbox_table
from latchkey.testing.botcheck import solve
from tests.support.clock import FakeClock
from tests.support.pools import PoolBrowser, make_pool
from tests.web_parties import ORIGIN, Backend

TABLES = {
    "challenges": challenges,
    "flows": flows,
    "botcheck_spent": botcheck_spent,
    "recovery_codes": recovery_codes,
    "tokens": tokens,
    "authorization_codes": code_table,
    "sso_sessions": sso_sessions,
    "operator_enrolments": operator_enrolments,
    "portal_sessions": portal_sessions,
    "used_challenges": used_challenges,
}

# Tables the visits above leave nothing prunable in (their mail is never sent here).
UNTOUCHED = {"rate_limits": 0, "refresh_tokens": 0, "mail_outbox": 0}


def counts(rt: Runtime) -> dict[str, int]:
    with rt.engine.connect() as conn:
        return {
            name: int(conn.execute(select(func.count()).select_from(table)).scalar_one())
            for name, table in TABLES.items()
        }


@pytest.fixture
def tenant(tenant_and_secret: tuple[Tenant, str]) -> Tenant:
    return tenant_and_secret[0]


def _leave_rows_behind(
    rt: Runtime, client: TestClient, tenant: Tenant, backend: Backend, email: str
) -> PoolBrowser:
    """What visitors leave: a sign-up behind a bot check, a sign-in, a recovery mail, a tracked
    action's token, an OIDC code, an operator's link and session."""
    pool = pools.get(rt, tenant.id, "customers")
    browser = PoolBrowser(client, tenant.id, pool.id)
    challenge = client.get(f"{browser.base}/botcheck/challenge").json()
    begun = browser.begin_signup(email, altcha=solve(challenge), flow_id=challenge["flow_id"])
    assert begun.status_code == 200, begun.text
    made = browser.authenticator.create(begun.json()["publicKey"], origin=ORIGIN)
    assert browser.post("register/webauthn/finish", made).status_code == 200
    assert browser.sign_in().status_code == 200
    challenge = client.get(f"{browser.base}/botcheck/challenge").json()
    recovering = browser.post(
        "recovery/begin",
        {"identifier": email, "altcha": solve(challenge), "flow_id": challenge["flow_id"]},
    )
    assert recovering.status_code == 200, recovering.text
    backend.track(f"user-{email}", "signIn")
    with rt.engine.connect() as conn:
        user_id = conn.execute(select(users.c.id).where(users.c.email == email)).scalar_one()
    app, _ = apps.create(rt, tenant.id, name=f"app {email}")
    now = rt.now()
    with rt.transaction() as conn:
        authorization_codes.add(
            conn,
            code_hash=hashlib.sha256(email.encode()).digest(),
            tenant_id=tenant.id,
            app_id=app.id,
            user_id=user_id,
            redirect_uri="https://app.example/cb",
            scope="openid",
            amr=["webauthn"],
            auth_time=now,
            created_at=now,
            expires_at=now + timedelta(seconds=60),
        )
    # A web sign-in's sealed challenge id, used: its key stays in used_challenges.
    begun = tenant_passkeys.sign_in_options(rt, tenant, context={})
    opened = sealed_challenges.open_sealed(
        rt, scope=tenant.id, challenge_id=begun.challenge_id, kind="authentication"
    )
    with rt.transaction() as conn:
        sealed_challenges.consume(conn, opened)
    link = accounts.create(rt, name=f"operator {email}")
    with rt.transaction() as conn:
        sessions.start(conn, rt, link.operator.id, RequestMeta())
    return browser


def test_expired_rows_are_pruned_and_live_ones_stay(
    rt: Runtime, client: TestClient, tenant: Tenant, backend: Backend, clock: FakeClock
) -> None:
    make_pool(rt, tenant, bot_check=True, email_sender="login@example.com")
    _leave_rows_behind(rt, client, tenant, backend, "old@example.com")
    before = counts(rt)
    assert all(before.values()), before

    # Within a day of each one's end: a late answer still meets its row. Only spent bot-check
    # solutions go at once: past their expiry they cannot verify again anyway.
    clock.advance(hours=13)
    spent = before.pop("botcheck_spent")
    first = pruning.prune_expired(rt)
    assert first == {**dict.fromkeys(before, 0), "botcheck_spent": spent, **UNTOUCHED}
    assert counts(rt) == {**before, "botcheck_spent": 0}

    clock.advance(days=2)  # a day past the longest lifetime (the operator's 24-hour link)
    owner = _leave_rows_behind(rt, client, tenant, backend, "new@example.com")
    grown = counts(rt)
    pruned = pruning.prune_expired(rt, batch=2)  # several batches per table
    after = counts(rt)
    # The old rows went, each table back to what the new visit wrote; the new rows stayed.
    assert after == {name: grown[name] - before.get(name, 0) for name in TABLES}, after
    assert pruned == {**before, "botcheck_spent": 0, **UNTOUCHED}
    # The owner's journey is untouched.
    assert owner.sign_in().status_code == 200


def test_the_background_worker_prunes(
    rt: Runtime, client: TestClient, tenant: Tenant, backend: Backend, clock: FakeClock
) -> None:
    make_pool(rt, tenant, bot_check=True, email_sender="login@example.com")
    _leave_rows_behind(rt, client, tenant, backend, "old@example.com")
    assert all(counts(rt).values())
    clock.advance(days=30)
    worker = RetentionWorker(rt, every_seconds=0.05)
    worker.start()
    try:
        deadline = time.monotonic() + 20
        while any(counts(rt).values()) and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        worker.stop()
    assert not any(counts(rt).values()), counts(rt)


def test_finished_rate_limit_windows_are_pruned(rt: Runtime) -> None:
    """Counted in the database, each client address has a row: a finished window's goes."""
    now = [1_800_000_000.0]
    counter = ratelimit.DatabaseCounter(rt.engine, clock=lambda: now[0])
    rt.limiter = ratelimit.Limiter(counter)  # pruning reads the clock its counter counts by
    for n in range(5):
        assert counter.incr(f"pool:ip:203.0.113.{n}", 60) == 1
    assert counter.incr("pool:ip:203.0.113.0", 60) == 2
    assert counter.incr("pool-password:account", 900) == 1
    assert not pruning.prune_expired(rt)["rate_limits"]  # every window still open
    now[0] += 120  # the 60-second windows have ended, the 15-minute one has not
    assert counter.incr("pool:ip:203.0.113.9", 60) == 1
    assert pruning.prune_expired(rt)["rate_limits"] == 5
    with rt.engine.connect() as conn:
        left = set(conn.execute(select(rate_limits.c.key)).scalars())
    assert left == {"pool:ip:203.0.113.9", "pool-password:account"}
    # A pruned key counts from one again, as a new window would anyway.
    assert counter.incr("pool:ip:203.0.113.0", 60) == 1


def _refresh_token(
    rt: Runtime, tenant: Tenant, app_id: str, user_id: str, **times: datetime | None
) -> bytes:
    key = secrets.token_bytes(32)
    now = rt.now()
    with rt.transaction() as conn:
        refresh_store.add(
            conn,
            token_hash=key,
            tenant_id=tenant.id,
            app_id=app_id,
            user_id=user_id,
            family_id=new_id(),
            scope="openid offline_access",
            amr=["webauthn"],
            auth_time=now,
            created_at=now,
            **{"expires_at": now + timedelta(days=30), **times},
        )
    return key


def _mail(rt: Runtime, tenant: Tenant, *, sent: bool = False, given_up: bool = False) -> str:
    note = OutgoingMail("login@example.com", "someone@example.com", "Hello", "Body")
    with rt.transaction() as conn:
        mail_id = mail_outbox.enqueue(conn, rt, note, tenant_id=tenant.id)
        if sent:
            assert mail_outbox.mark_sent(conn, mail_id, rt.now())
        if given_up:
            assert mail_outbox.mark_failed(conn, mail_id, "refused", rt.now(), give_up=True)
    return mail_id


def _left(rt: Runtime) -> tuple[set[bytes], set[str]]:
    with rt.engine.connect() as conn:
        return (
            set(conn.execute(select(refresh_tokens.c.token_hash)).scalars()),
            set(conn.execute(select(mail_outbox_table.c.id)).scalars()),
        )


def test_spent_refresh_tokens_and_finished_mail_are_pruned(
    rt: Runtime, tenant: Tenant, clock: FakeClock
) -> None:
    """Refresh tokens go a day after they expire or are revoked; a used one still live stays
    (presenting it again revokes its family). Mail goes a day after delivery, or a week after
    it was given up on; mail still being tried stays."""
    app, _ = apps.create(rt, tenant.id, name="app")
    with rt.transaction() as conn:
        user = user_service.ensure(conn, rt, tenant, "user-1", {})
    now = clock.now
    expired = _refresh_token(rt, tenant, app.id, user.id, expires_at=now + timedelta(hours=1))
    revoked = _refresh_token(rt, tenant, app.id, user.id, revoked_at=now)
    used = _refresh_token(rt, tenant, app.id, user.id, used_at=now)
    live = _refresh_token(rt, tenant, app.id, user.id)
    delivered = _mail(rt, tenant, sent=True)
    abandoned = _mail(rt, tenant, given_up=True)
    waiting = _mail(rt, tenant)
    everything = ({expired, revoked, used, live}, {delivered, abandoned, waiting})
    assert _left(rt) == everything

    clock.advance(hours=23)  # within the grace of each: a late answer still meets its row
    found = pruning.prune_expired(rt)
    assert (found["refresh_tokens"], found["mail_outbox"]) == (0, 0)
    assert _left(rt) == everything

    clock.advance(hours=3)  # a day past the expiry, the revocation and the delivery
    found = pruning.prune_expired(rt, batch=1)
    assert (found["refresh_tokens"], found["mail_outbox"]) == (2, 1)
    assert _left(rt) == ({used, live}, {abandoned, waiting})

    clock.advance(days=6)  # a week after the last attempt of the mail given up on
    found = pruning.prune_expired(rt)
    assert (found["refresh_tokens"], found["mail_outbox"]) == (0, 1)
    assert _left(rt) == ({used, live}, {waiting})
