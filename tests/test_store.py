"""Store contract: the same behaviour on SQLite and PostgreSQL."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, text

from latchkey.ids import new_id
from latchkey.models import Challenge, Credential, User
from latchkey.runtime import Runtime
from latchkey.services import directories, pruning, tenants
from latchkey.store import challenges, credentials, migrate, users
from latchkey.store.tables import metadata
from tests.support.clock import FakeClock
from tests.web_parties import ORIGIN


def test_migrations_produce_the_declared_schema(rt: Runtime) -> None:
    with rt.engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), metadata) == []
    assert migrate.is_current(rt.engine)
    migrate.upgrade(rt.engine)  # a second run is a no-op


def _challenge(rt: Runtime, tenant_id: str, *, seconds: int = 60) -> Challenge:
    now = rt.now()
    return Challenge(
        id=new_id(),
        tenant_id=tenant_id,
        kind="authentication",
        user_id=None,
        challenge=b"\x01" * 32,
        context={"k": "v"},
        created_at=now,
        expires_at=now + timedelta(seconds=seconds),
        consumed_at=None,
    )


def test_challenge_is_consumed_once_within_its_tenant(rt: Runtime) -> None:
    tenant, _ = tenants.create(rt, rp_id="localhost", origins=[ORIGIN])
    other, _ = tenants.create(rt, rp_id="localhost", origins=[ORIGIN])
    issued = _challenge(rt, tenant.id)
    with rt.transaction() as conn:
        challenges.add(conn, issued)
    with rt.transaction() as conn:
        assert (
            challenges.consume(conn, challenge_id=issued.id, tenant_id=other.id, now=rt.now())
            is None
        )
        used = challenges.consume(conn, challenge_id=issued.id, tenant_id=tenant.id, now=rt.now())
        assert used is not None
        assert used.context == {"k": "v"}
        assert used.challenge == b"\x01" * 32
        assert used.consumed_at is not None
        assert used.consumed_at.tzinfo is not None
        assert (
            challenges.consume(conn, challenge_id=issued.id, tenant_id=tenant.id, now=rt.now())
            is None
        )


def test_expired_challenge_is_not_consumed(rt: Runtime, clock: FakeClock) -> None:
    tenant, _ = tenants.create(rt, rp_id="localhost", origins=[ORIGIN])
    issued = _challenge(rt, tenant.id, seconds=1)
    with rt.transaction() as conn:
        challenges.add(conn, issued)
        later = rt.now() + timedelta(seconds=2)
        assert (
            challenges.consume(conn, challenge_id=issued.id, tenant_id=tenant.id, now=later) is None
        )
    # The background pruning deletes it once its grace has passed, not before.
    clock.advance(seconds=2)
    assert pruning.prune_expired(rt)["challenges"] == 0
    clock.advance(seconds=pruning.GRACE.total_seconds())
    assert pruning.prune_expired(rt)["challenges"] == 1


def test_concurrent_consumers_get_the_challenge_exactly_once(rt: Runtime) -> None:
    tenant, _ = tenants.create(rt, rp_id="localhost", origins=[ORIGIN])
    issued = _challenge(rt, tenant.id)
    with rt.transaction() as conn:
        challenges.add(conn, issued)

    def attempt(_: int) -> bool:
        with rt.transaction() as conn:
            found = challenges.consume(
                conn, challenge_id=issued.id, tenant_id=tenant.id, now=rt.now()
            )
        return found is not None

    with ThreadPoolExecutor(8) as pool:
        outcomes = list(pool.map(attempt, range(16)))
    assert outcomes.count(True) == 1


def _user(rt: Runtime, tenant_id: str) -> User:
    now = rt.now()
    with rt.transaction() as conn:
        directory_id = directories.default_id(conn, tenant_id)
    return User(
        new_id(),
        tenant_id,
        "ext-1",
        b"\x09" * 32,
        "ada",
        "Ada",
        now,
        now,
        directory_id=directory_id,
    )


def _credential(rt: Runtime, tenant_id: str, user_id: str) -> Credential:
    return Credential(
        id=new_id(),
        tenant_id=tenant_id,
        user_id=user_id,
        credential_id=b"\x07" * 16,
        public_key=b"cose",
        alg=-7,
        sign_count=3,
        aaguid="00000000-0000-0000-0000-000000000000",
        fmt="none",
        transports=("internal", "hybrid"),
        backup_eligible=True,
        backup_state=False,
        user_verified=True,
        discoverable=True,
        attachment="platform",
        name="Passkey",
        possible_clone=False,
        created_at=rt.now(),
        last_used_at=None,
    )


def test_credentials_round_trip_and_stay_in_their_tenant(rt: Runtime) -> None:
    tenant, _ = tenants.create(rt, rp_id="localhost", origins=[ORIGIN])
    other, _ = tenants.create(rt, rp_id="localhost", origins=[ORIGIN])
    user = _user(rt, tenant.id)
    credential = _credential(rt, tenant.id, user.id)
    with rt.transaction() as conn:
        users.add(conn, user)
        credentials.add(conn, credential)
    with rt.transaction() as conn:
        assert users.by_external_id(conn, tenant.id, "ext-1") == user
        assert users.by_external_id(conn, other.id, "ext-1") is None
        assert credentials.for_user(conn, tenant.id, user.id) == [credential]
        assert credentials.with_owner(conn, tenant.id, b"\x07" * 16) == (credential, user)
        assert credentials.with_owner(conn, other.id, b"\x07" * 16) is None
        assert credentials.exists(conn, tenant.id, b"\x07" * 16)
        assert not credentials.exists(conn, other.id, b"\x07" * 16)


def test_record_use_only_moves_the_counter_forward(rt: Runtime) -> None:
    tenant, _ = tenants.create(rt, rp_id="localhost", origins=[ORIGIN])
    user = _user(rt, tenant.id)
    credential = _credential(rt, tenant.id, user.id)
    with rt.transaction() as conn:
        users.add(conn, user)
        credentials.add(conn, credential)
    use = {"credential_row_id": credential.id, "backup_state": True, "used_at": rt.now()}
    with rt.transaction() as conn:
        assert credentials.record_use(conn, new_count=4, **use)
        assert not credentials.record_use(conn, new_count=4, **use)  # not above the stored 4
        assert not credentials.record_use(conn, new_count=2, **use)
        assert not credentials.record_use(conn, new_count=0, **use)  # a counter never goes to 0
        # Checked against the count as stored, not as the caller last read it (a cache).
        assert credentials.record_use(conn, new_count=9, **use)
        [stored] = credentials.for_user(conn, tenant.id, user.id)
    assert stored.sign_count == 9
    assert stored.backup_state is True
    assert stored.last_used_at


def test_record_use_with_holder_returns_the_holder_as_stored(rt: Runtime) -> None:
    tenant, _ = tenants.create(rt, rp_id="localhost", origins=[ORIGIN])
    user = _user(rt, tenant.id)
    credential = _credential(rt, tenant.id, user.id)
    with rt.transaction() as conn:
        users.add(conn, user)
        credentials.add(conn, credential)
    use = {"credential_row_id": credential.id, "backup_state": False, "used_at": rt.now()}
    with rt.transaction() as conn:
        if conn.dialect.name != "postgresql":
            with pytest.raises(ValueError, match="RETURNING"):
                credentials.record_use_with_holder(conn, new_count=4, **use)
            return
        assert credentials.record_use_with_holder(conn, new_count=4, **use) == user
        assert credentials.record_use_with_holder(conn, new_count=4, **use) is None
        [stored] = credentials.for_user(conn, tenant.id, user.id)
    assert stored.sign_count == 4


def test_upgrade_puts_existing_users_in_a_default_directory(engine: Engine) -> None:
    migrate.upgrade(engine, "0003")
    now = datetime.now(UTC)
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO tenants (id, name, rp_id, rp_name, origins, policy, created_at,"
                " updated_at) VALUES ('t1', 'T', 'localhost', 'T', '[]', '{}', :now, :now)"
            ),
            {"now": now},
        )
        conn.execute(
            text(
                "INSERT INTO users (id, tenant_id, external_id, user_handle, created_at,"
                " updated_at) VALUES ('u1', 't1', 'ext', :handle, :now, :now)"
            ),
            {"handle": b"\x01" * 32, "now": now},
        )
        conn.execute(
            text(
                "INSERT INTO credentials (id, tenant_id, user_id, credential_id, public_key, alg,"
                " sign_count, aaguid, fmt, transports, backup_eligible, backup_state,"
                " user_verified, name, possible_clone, created_at) VALUES ('c1', 't1', 'u1',"
                " :cid, :key, -7, 5, 'x', 'none', '[]', false, false, true, 'k', false, :now)"
            ),
            {"cid": b"\x02" * 16, "key": b"cose", "now": now},
        )
    migrate.upgrade(engine)
    with engine.connect() as conn:
        directory = conn.execute(text("SELECT id, name, is_default FROM directories")).one()
        user = conn.execute(text("SELECT directory_id FROM users WHERE id = 'u1'")).one()
        # Rebuilding tables on SQLite must not cascade into their children.
        assert conn.execute(text("SELECT sign_count FROM credentials")).scalar() == 5
        assert conn.execute(text("SELECT related_origins FROM tenants")).scalar() in ("[]", [])
    assert directory.name == "default"
    assert directory.is_default
    assert user.directory_id == directory.id
