"""The adoption rollup of closed days: the funnel's figures are exactly those the events give,
whether a period's days are rolled up or not (several days, pools, today, period ends inside
a day, a late event, a second pass, a deleted user and passkey), on SQLite and PostgreSQL;
rolling up is idempotent, pruned with retention and deleted with its tenant."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import delete, func, select

from latchkey.models import Tenant
from latchkey.runtime import Runtime
from latchkey.services import adoption, adoption_rollup, directories, retention, tenants, users
from latchkey.services.adoption_sets import pack_bits, pack_ints, unpack_bits, unpack_ints
from latchkey.store.tables import (
    adoption_day_counts,
    adoption_day_sets,
    adoption_passkey_ordinals,
    adoption_rollups,
    adoption_user_ordinals,
)
from latchkey.store.tables import tenants as tenant_rows
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

FIRST_DAY = date(2026, 3, 1)
ROLLUP_TABLES = (adoption_rollups, adoption_user_ordinals, adoption_passkey_ordinals,
                 adoption_day_counts, adoption_day_sets)  # fmt: skip


def at(day: int, hour: float) -> datetime:
    """`hour` o'clock (UTC) of the scripted log's day `day` (0: its first)."""
    return datetime(2026, 3, 1, tzinfo=UTC) + timedelta(days=day, hours=hour)


@dataclass
class Log:
    tenant: Tenant
    a: str
    b: str
    script: Script
    keys: dict[str, str]


@pytest.fixture
def log(rt: Runtime, clock: FakeClock) -> Log:
    """Four days (the fourth is today, ending at noon) of two pools' sign-ins by users who
    come back on several days, with times, passkeys, the offer, failures and events of no
    pool; another tenant's sign-in each day."""
    clock.now = at(0, 1)
    tenant, _ = tenants.create(rt, rp_id="localhost", rp_name="Shop", origins=[ORIGIN])
    other, _ = tenants.create(rt, rp_id="localhost", rp_name="Other", origins=[ORIGIN])
    a = directories.create(rt, tenant.id, "a", {"email": "required"}).id
    b = directories.create(rt, tenant.id, "b", {"email": "required"}).id
    s = Script(rt, tenant)
    ann, bob, cat, dan, eve = (s.user(a, "ann"), s.user(a, "bob"), s.user(a, "cat"),
                               s.user(b, "dan"), s.user(b, "eve"))  # fmt: skip
    keys = {"ann": s.passkey(ann, ICLOUD, synced=True),
            "bob": s.passkey(bob, YUBIKEY, synced=False),
            "dan": s.passkey(dan, GOOGLE, synced=True)}  # fmt: skip
    stranger = Script(rt, other)
    stranger_id = stranger.user(
        directories.create(rt, other.id, "x", {"email": "required"}).id, "zed"
    )
    for day in range(4):
        clock.now = at(day, 2 + day)
        for _ in range(3 + day):
            s.event("pool.page_loaded", a, flow_id="f")
        s.event("pool.page_loaded", b, flow_id="f")
        s.event("pool.signed_in", a, user_id=ann, credential_id=keys["ann"], method="autofill",
                elapsed_ms=1000 + 100 * day, agent=SAFARI_MAC)  # fmt: skip
        clock.advance(hours=3)
        if day % 2 == 0:
            s.event("pool.signed_in", a, user_id=bob, credential_id=keys["bob"],
                    method="identifier", elapsed_ms=2000 + day, agent=CHROME_WINDOWS)  # fmt: skip
            s.event("pool.signed_in", a, user_id=bob, credential_id=keys["bob"])  # no method
        s.event("pool.password_sign_in", a, user_id=cat, method="password",
                elapsed_ms=7000 - 500 * day, agent=FIREFOX_LINUX)  # fmt: skip
        s.event("pool.passkey_offer_shown", a, user_id=cat)
        if day == 1:
            s.event("pool.passkey_offer_accepted", a, user_id=cat)
        else:
            s.event("pool.passkey_offer_declined", a, user_id=cat)
        s.event("pool.recovered", a, user_id=bob, agent=None)
        s.event("passkey.authentication", a, reason="credential_not_found")
        s.event("pool.password_sign_in", a, reason="invalid_credentials", user_id=cat)
        s.event("pool.recovery_requested", a, reason="bot_check_failed")
        s.event("passkey.authentication", None, reason="user_verification_required")
        s.event("pool.signed_in", None, user_id=eve, method="button", elapsed_ms=400,
                agent=CHROME_ANDROID)  # an API caller's sign-in of no pool  # fmt: skip
        clock.advance(hours=8)  # late in the day: 13:00 + day hours
        s.event("pool.signed_in", b, user_id=dan, credential_id=keys["dan"], method="button",
                elapsed_ms=300 * (day + 1), agent=CHROME_ANDROID)  # fmt: skip
        s.event("passkey.registration", None, user_id=ann, credential_id=keys["ann"])
        stranger.event("pool.signed_in", None, user_id=stranger_id, method="autofill",
                       elapsed_ms=5, agent=SAFARI_MAC)  # fmt: skip
    clock.now = at(3, 12)  # today, noon: days 0-2 are closed
    return Log(tenant, a, b, s, keys)


def periods(found: Log) -> list[tuple[datetime, datetime, str | None]]:
    """Whole days, days with parts of others at both ends, today, one day's hours only, and
    periods ending before today, for the tenant and for each pool."""
    spans = [(at(0, 0), at(3, 12)), (at(0, 4), at(3, 6)), (at(0, 10), at(2, 23)),
             (at(1, 0), at(3, 0)), (at(2, 3), at(2, 20)), (at(-5, 0), at(9, 0)),
             (at(3, 0), at(3, 12)), (at(1, 12), at(3, 1))]  # fmt: skip
    return [(since, until, pool) for since, until in spans for pool in (None, found.a, found.b)]


def figures(rt: Runtime, found: Log, monkeypatch: pytest.MonkeyPatch, *, raw: bool) -> list[Any]:
    """Every period's figures; `raw`: from the events alone (as if nothing were rolled up)."""
    with monkeypatch.context() as patched:
        if raw:
            patched.setattr(adoption_rollup, "rolled_through", lambda conn, tenant_id: None)
        return [adoption.funnel(rt, found.tenant.id, since=since, until=until, pool_id=pool)
                for since, until, pool in periods(found)]  # fmt: skip


def rows(rt: Runtime) -> dict[str, list[tuple[Any, ...]]]:
    with rt.read() as conn:
        return {t.name: sorted((tuple(r) for r in conn.execute(select(t))), key=repr)
                for t in ROLLUP_TABLES}  # fmt: skip


def test_the_figures_are_the_events_figures_with_the_rollup(
    rt: Runtime, log: Log, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = figures(rt, log, monkeypatch, raw=True)
    assert adoption_rollup.roll_up(rt) == {log.tenant.id: 3, _other(rt, log): 3}
    with rt.read() as conn:
        assert adoption_rollup.rolled_through(conn, log.tenant.id) == FIRST_DAY + timedelta(3)
    used: list[tuple[date, date]] = []
    spy = adoption_rollup.from_rollup

    def reading(conn: Any, tenant_id: str, pool_id: str | None, first: date, last: date) -> Any:
        used.append((first, last))
        return spy(conn, tenant_id, pool_id, first, last)

    monkeypatch.setattr(adoption_rollup, "from_rollup", reading)
    after = figures(rt, log, monkeypatch, raw=False)
    assert after == before
    # The rollup was read for the whole closed days only.
    assert (FIRST_DAY, FIRST_DAY + timedelta(3)) in used
    assert (FIRST_DAY + timedelta(1), FIRST_DAY + timedelta(2)) in used
    assert all(last <= FIRST_DAY + timedelta(3) for _, last in used)
    # The tenant's whole log: users across days counted once, the times of every day ranked.
    whole = after[0]
    assert (whole.users_signed_in, whole.users_with_passkey, whole.sign_ins) == (5, 3, 23)
    assert (whole.pages_loaded, whole.offers_accepted, whole.offers_declined) == (22, 1, 3)
    assert (whole.timed, whole.median_ms, whole.p90_ms) == (17, 1100, 6500)
    assert (whole.synced, whole.device_bound) == (7, 4)
    assert dict(whole.methods) == {"autofill": 4, "button": 7, "identifier": 2, "passkey": 2,
                                   "password": 4, "recovery": 4}  # fmt: skip
    assert dict(whole.failure_steps) == {"passkey": 8, "password": 4, "recovery_request": 4}


def _other(rt: Runtime, found: Log) -> str:
    with rt.read() as conn:
        ids = conn.execute(select(tenant_rows.c.id)).scalars().all()
    (other,) = set(ids) - {found.tenant.id}
    return str(other)


def test_rolling_up_again_leaves_the_same_rows(rt: Runtime, log: Log, clock: FakeClock) -> None:
    adoption_rollup.roll_up(rt)
    first = rows(rt)
    assert first["adoption_day_sets"]
    assert first["adoption_day_counts"]
    # The next pass rolls the last two days up again: nothing changed, nothing moves.
    assert adoption_rollup.roll_up(rt, tenant_id=log.tenant.id) == {log.tenant.id: 2}
    assert rows(rt) == first
    # Each day on its own, again: the same rows.
    for day in range(3):
        adoption_rollup.roll_up_day(rt, log.tenant.id, FIRST_DAY + timedelta(day))
    assert rows(rt) == first


def test_a_late_event_counts_in_its_day(
    rt: Runtime, log: Log, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    adoption_rollup.roll_up(rt)
    today = clock.now
    # A clock a day behind writes a sign-in into yesterday, after it was rolled up.
    clock.now = at(2, 23.5)
    newcomer = log.script.user(log.a, "fay")
    log.script.event("pool.signed_in", log.a, user_id=newcomer, method="autofill",
                     elapsed_ms=123456, agent=FIREFOX_LINUX)  # fmt: skip
    clock.now = today
    # The next pass rolls yesterday up again: the figures are the events' again.
    adoption_rollup.roll_up(rt)
    assert figures(rt, log, monkeypatch, raw=False) == figures(rt, log, monkeypatch, raw=True)
    whole = adoption.funnel(rt, log.tenant.id, since=at(0, 0), until=at(3, 12))
    assert (whole.users_signed_in, whole.sign_ins, whole.p90_ms) == (6, 24, 7000)
    # A day not rolled up yet is read from its events: the next day, before any pass.
    clock.now = at(4, 9)
    fresh = adoption.funnel(rt, log.tenant.id, since=at(0, 0), until=at(4, 9))
    with rt.read() as conn:
        assert adoption_rollup.rolled_through(conn, log.tenant.id) == FIRST_DAY + timedelta(3)
    assert fresh.sign_ins == whole.sign_ins + 1  # Dan's, yesterday at 16:00
    with monkeypatch.context() as patched:
        patched.setattr(adoption_rollup, "rolled_through", lambda conn, tenant_id: None)
        assert fresh == adoption.funnel(rt, log.tenant.id, since=at(0, 0), until=at(4, 9))


def test_a_deleted_user_and_passkey_leave_the_figures_as_the_events_do(
    rt: Runtime, log: Log, monkeypatch: pytest.MonkeyPatch
) -> None:
    adoption_rollup.roll_up(rt)
    users.delete_credential(rt, log.tenant, external_user_id="dan",
                            credential_row_id=log.keys["dan"])  # fmt: skip
    users.delete(rt, log.tenant, external_user_id="bob")
    after = figures(rt, log, monkeypatch, raw=False)
    assert after == figures(rt, log, monkeypatch, raw=True)
    whole = after[0]
    # Bob's sign-ins still count, he no longer does; Dan's no longer have a provider.
    assert (whole.users_signed_in, whole.users_with_passkey, whole.sign_ins) == (4, 1, 23)
    assert (whole.synced, whole.device_bound) == (4, 0)


def test_retention_prunes_the_days_whose_events_are_gone(
    rt: Runtime, log: Log, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The worker's pass: the closed days rolled up before any event is pruned.
    retention.RetentionWorker(rt).run_once()
    assert rows(rt)["adoption_day_sets"]
    retention.set_retention(rt, log.tenant.id, 2)
    clock.now = at(3, 15)  # events before day 1, 15:00 go; day 0 wholly, day 1 in part
    retention.RetentionWorker(rt).run_once()
    with rt.read() as conn:
        days = conn.execute(
            select(adoption_day_sets.c.day).where(adoption_day_sets.c.tenant_id == log.tenant.id)
        ).scalars()
        assert sorted(set(days)) == [FIRST_DAY + timedelta(1), FIRST_DAY + timedelta(2)]
    # Day 0's figures went with its events; day 1's stay whole while some of its events last.
    day_0 = adoption.funnel(rt, log.tenant.id, since=at(0, 0), until=at(1, 0))
    assert (day_0.sign_ins, day_0.pages_loaded) == (0, 0)
    day_1 = adoption.funnel(rt, log.tenant.id, since=at(1, 0), until=at(2, 0))
    assert (day_1.sign_ins, day_1.pages_loaded, day_1.users_signed_in) == (5, 5, 5)


def test_deleting_the_tenant_deletes_its_rollup(rt: Runtime, log: Log) -> None:
    adoption_rollup.roll_up(rt)
    with rt.transaction() as conn:
        conn.execute(delete(tenant_rows).where(tenant_rows.c.id == log.tenant.id))
    with rt.read() as conn:
        for table in ROLLUP_TABLES:
            left = conn.execute(
                select(func.count()).select_from(table).where(table.c.tenant_id == log.tenant.id)
            ).scalar()
            assert left == 0, table.name
        # The other tenant's stays.
        assert conn.execute(select(func.count()).select_from(adoption_day_sets)).scalar() == 3


def test_packed_sets_round_trip() -> None:
    assert unpack_bits(pack_bits([0, 9, 7, 9, 1000])) == (1 | 1 << 7 | 1 << 9 | 1 << 1000)
    assert unpack_bits(pack_bits([])) == 0
    assert list(unpack_ints(pack_ints([3, -1, 2**40]))) == [3, -1, 2**40]


def test_the_migration_goes_down_and_up(engine: Any) -> None:
    from alembic import command

    from latchkey.store import migrate

    migrate.upgrade(engine)
    config = migrate._config()
    with engine.connect() as conn, conn.begin():
        config.attributes["connection"] = conn
        command.downgrade(config, "0026")
    migrate.upgrade(engine)
    assert migrate.is_current(engine)


def test_a_day_retention_has_begun_to_prune_is_not_rolled_up_again(
    rt: Runtime, log: Log, clock: FakeClock
) -> None:
    adoption_rollup.roll_up(rt)
    kept = rows(rt)["adoption_day_sets"]
    retention.set_retention(rt, log.tenant.id, 1)
    clock.now = at(3, 15)  # day 2's events before 15:00 are pruned: its rollup stays whole
    retention.prune(rt)
    assert adoption_rollup.roll_up(rt, tenant_id=log.tenant.id) == {log.tenant.id: 0}
    day_2 = [r for r in kept if r[1] == FIRST_DAY + timedelta(2)]
    assert [r for r in rows(rt)["adoption_day_sets"] if r[1] == FIRST_DAY + timedelta(2)] == day_2
    found = adoption.funnel(rt, log.tenant.id, since=at(2, 0), until=at(3, 0))
    assert (found.sign_ins, found.users_signed_in) == (7, 5)


def test_ordinals_handed_out_or_users_deleted_between_reading_and_writing_a_day(
    rt: Runtime, log: Log, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A day is read, then written: meanwhile another pass gave its users ordinals, and a
    user and a passkey of it were deleted. The write reuses those ordinals, skips the deleted,
    and the figures are still the events'."""
    day_0 = FIRST_DAY
    with rt.read() as conn:
        found = adoption_rollup._read_day(conn, log.tenant.id, day_0)
    assert all(isinstance(i, str) for ids in found.users.values() for i in ids)  # none known
    adoption_rollup.roll_up_day(rt, log.tenant.id, day_0 + timedelta(1))  # another pass
    users.delete(rt, log.tenant, external_user_id="eve")
    users.delete_credential(rt, log.tenant, external_user_id="dan",
                            credential_row_id=log.keys["dan"])  # fmt: skip
    with rt.transaction() as conn:
        adoption_rollup._write_day(conn, log.tenant.id, day_0, found)
    written = rows(rt)
    with rt.read() as conn:
        ordinals = conn.execute(select(adoption_user_ordinals.c.ordinal)).scalars().all()
    assert sorted(ordinals) == list(range(len(ordinals)))  # each handed out once
    whole = (at(0, 0), at(2, 0))
    with monkeypatch.context() as patched:
        patched.setattr(adoption_rollup, "rolled_through", lambda conn, tenant_id: None)
        raw = [adoption.funnel(rt, log.tenant.id, since=whole[0], until=whole[1], pool_id=pool)
               for pool in (None, log.a, log.b)]  # fmt: skip
    rolled = [adoption.funnel(rt, log.tenant.id, since=whole[0], until=whole[1], pool_id=pool)
              for pool in (None, log.a, log.b)]  # fmt: skip
    assert rolled == raw
    assert (rolled[0].users_signed_in, rolled[0].device_bound, rolled[0].synced) == (4, 2, 2)
    # Rolled up afresh, the day's rows are the same.
    adoption_rollup.roll_up_day(rt, log.tenant.id, day_0)
    assert rows(rt) == written


def test_a_tenant_that_fails_holds_no_other_up(
    rt: Runtime, log: Log, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    other = _other(rt, log)
    real = adoption_rollup.roll_up_day

    def failing(rt: Runtime, tenant_id: str, day: date) -> None:
        if tenant_id == log.tenant.id:
            raise RuntimeError("a passkey went meanwhile")
        real(rt, tenant_id, day)

    monkeypatch.setattr(adoption_rollup, "roll_up_day", failing)
    assert adoption_rollup.roll_up(rt) == {other: 3}
    (failed,) = [r for r in caplog.records if r.levelname == "ERROR"]
    assert failed.getMessage() == (
        f"rolling up tenant {log.tenant.id}'s adoption figures failed: RuntimeError"
    )
    with rt.read() as conn:
        assert adoption_rollup.rolled_through(conn, log.tenant.id) is None
        assert adoption_rollup.rolled_through(conn, other) == FIRST_DAY + timedelta(3)
