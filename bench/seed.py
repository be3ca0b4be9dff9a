"""Seed a Latchkey database with many real passkeys, to benchmark sign-in at scale.

    python -m bench.seed --database sqlite --tenants 1000 --passkeys 1000000
    python -m bench.signin --seeded /tmp/latchkey-bench-seed.json

Tenants are made with the tenant service (so each has its real secret key). In each tenant, the
first user is made by the user service and given one passkey through the credential store;
every other user is a copy of those rows (and of any other row that names that user, such as
sign-up identifiers), with its own ids, user handle, credential id and public key, inserted in
bulk. The key file keeps what a sign-in needs: a few EC private keys shared by many
credentials, the seed every id is derived from, and each tenant's id and secret key. Its
secrets are test secrets; the file is written 0600.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy import Connection, Engine, Table, event, insert, select

from bench import servers
from bench.keyfile import Plan, derive, external_id, private_key, write_key_file
from latchkey.models import Credential, Tenant
from latchkey.runtime import Runtime
from latchkey.services import tenants, users
from latchkey.store import credentials as credential_store
from latchkey.store import migrate
from latchkey.store import users as user_store
from latchkey.store.engine import make_engine
from latchkey.store.tables import credentials as credential_table
from latchkey.store.tables import metadata
from latchkey.store.tables import users as user_table
from latchkey.testing.authenticator import ES256, SoftCredential

DEFAULT_KEY_FILE = Path(tempfile.gettempdir()) / "latchkey-bench-seed.json"
DEFAULT_PG_DATABASE = "latchkey_seed"
AAGUID = "00000000-0000-0000-0000-000000000000"


def _cose(key: ec.EllipticCurvePrivateKey) -> bytes:
    return SoftCredential(b"", key, ES256, "", None).cose_public_key()


def _template(
    conn: Connection, rt: Runtime, plan: Plan, t: int, tenant: Tenant, cose: bytes
) -> str:
    """User 0 of tenant t, made by the services; returns its row id."""
    name = external_id(t, 0)
    user = users.ensure(conn, rt, tenant, name, {"username": name, "displayName": name})
    user_store.update_profile(conn, user.id, {"user_handle": derive(plan.seed, b"handle", t, 0)})
    credential_store.add(conn, _credential(rt, plan, tenant.id, user.id, t, 0, cose))
    return user.id


def _credential(
    rt: Runtime, plan: Plan, tenant_id: str, user_id: str, t: int, u: int, cose: bytes
) -> Credential:
    return Credential(
        id=str(uuid.UUID(bytes=derive(plan.seed, b"credential-row", t, u, 16))),
        tenant_id=tenant_id,
        user_id=user_id,
        credential_id=derive(plan.seed, b"credential", t, u),
        public_key=cose,
        alg=ES256,
        sign_count=0,
        aaguid=AAGUID,
        fmt="none",
        transports=("internal", "hybrid"),
        backup_eligible=True,
        backup_state=True,
        user_verified=True,
        discoverable=True,
        attachment="platform",
        name="Passkey",
        possible_clone=False,
        created_at=rt.now(),
        last_used_at=None,
    )


def _replace(value: Any, old: str, new: str) -> Any:
    if isinstance(value, str):
        return value.replace(old, new)
    if isinstance(value, dict):
        return {k: _replace(v, old, new) for k, v in value.items()}
    if isinstance(value, list):
        return [_replace(v, old, new) for v in value]
    return value


def _dependents() -> list[Table]:
    """Tables other than credentials whose rows name a user (their user_id column)."""
    return [
        table
        for table in metadata.sorted_tables
        if table is not credential_table
        and any(fk.column.table is user_table for fk in table.foreign_keys)
    ]


def _rows(conn: Connection, table: Table, column: str, value: str) -> list[dict[str, Any]]:
    query = select(table).where(table.c[column] == value)
    return [dict(row._mapping) for row in conn.execute(query)]


def _clone_tenant(
    conn: Connection, plan: Plan, t: int, template_id: str, coses: Sequence[bytes]
) -> int:
    """Users 1.. of tenant t as copies of user 0's rows; returns the passkeys written."""
    user0 = _rows(conn, user_table, "id", template_id)[0]
    cred0 = _rows(conn, credential_table, "user_id", template_id)[0]
    others = {
        table: rows
        for table in _dependents()
        if (rows := _rows(conn, table, "user_id", template_id))
    }
    name0 = external_id(t, 0)
    new_users, new_creds = [], []
    new_others: dict[Table, list[dict[str, Any]]] = {table: [] for table in others}
    for u in range(1, plan.users_per_tenant):
        name = external_id(t, u)
        user_id = str(uuid.UUID(bytes=derive(plan.seed, b"user-row", t, u, 16)))
        user = _replace(user0, name0, name)
        user.update(id=user_id, user_handle=derive(plan.seed, b"handle", t, u))
        new_users.append(user)
        cred = dict(cred0)
        cred.update(
            id=str(uuid.UUID(bytes=derive(plan.seed, b"credential-row", t, u, 16))),
            user_id=user_id,
            credential_id=derive(plan.seed, b"credential", t, u),
            public_key=coses[plan.key_index(t, u)],
        )
        new_creds.append(cred)
        for table, rows in others.items():
            for row in rows:
                copied = {**_replace(row, name0, name), "user_id": user_id}
                if "id" in table.c:
                    copied["id"] = str(uuid.uuid4())
                new_others[table].append(copied)
    if new_users:
        _bulk_insert(conn, user_table, user0, new_users)
        _bulk_insert(conn, credential_table, cred0, new_creds)
        for table, rows in new_others.items():
            _bulk_insert(conn, table, others[table][0], rows)
    return len(new_users) + 1


def _bulk_insert(
    conn: Connection, table: Table, template: Mapping[str, Any], rows: list[dict[str, Any]]
) -> None:
    """INSERT many rows through the driver's executemany. Values still equal to the template
    row's are converted for the database once; changed ones are converted per row."""
    dialect = conn.dialect
    compiled = insert(table).compile(dialect=dialect)
    names = list(compiled.positiontup or []) or [c.name for c in table.c]
    processors = {n: table.c[n].type._cached_bind_processor(dialect) for n in names}
    shared = {n: _convert(processors[n], template.get(n)) for n in names}

    def values(row: Mapping[str, Any]) -> list[Any]:
        out = []
        for n in names:
            value = row.get(n)
            out.append(shared[n] if value is template.get(n) else _convert(processors[n], value))
        return out

    if dialect.name == "postgresql":
        # COPY is several times faster than executemany, even pipelined.
        columns = ", ".join(f'"{n}"' for n in names)
        driver = conn.connection.driver_connection
        assert driver is not None
        with (
            driver.cursor() as cursor,
            cursor.copy(f'COPY "{table.name}" ({columns}) FROM STDIN') as copy,
        ):
            for row in rows:
                copy.write_row(values(row))
    elif compiled.positional:
        conn.exec_driver_sql(compiled.string, [tuple(values(r)) for r in rows])
    else:
        conn.exec_driver_sql(
            compiled.string, [dict(zip(names, values(r), strict=True)) for r in rows]
        )


def _convert(processor: Any, value: Any) -> Any:
    return processor(value) if processor is not None and value is not None else value


def _bulk_load_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # A bulk load is redone if it fails: no fsync per commit, and a page cache the size of the
    # indexes (random credential ids land all over them). The server keeps its own settings.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA synchronous=OFF")
    cursor.execute("PRAGMA cache_size=-2000000")
    cursor.close()


def seed(plan: Plan, *, progress: bool = True) -> list[dict[str, str]]:
    engine = make_engine(plan.database_url)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _bulk_load_pragmas)  # after Latchkey's own pragmas
    try:
        migrate.upgrade(engine)
        return _seed(engine, plan, progress=progress)
    finally:
        engine.dispose()


def _seed(engine: Engine, plan: Plan, *, progress: bool) -> list[dict[str, str]]:
    rt = Runtime(engine=engine)
    coses = [_cose(private_key(k)) for k in plan.keys]
    made: list[dict[str, str]] = []
    started, written = time.monotonic(), 0
    for t in range(plan.tenants):
        tenant, secret = tenants.create(
            rt, rp_id="localhost", rp_name=f"Seed {t}", origins=[plan.origin]
        )
        made.append({"id": tenant.id, "secret": secret})
        with rt.transaction() as conn:
            template = _template(conn, rt, plan, t, tenant, coses[plan.key_index(t, 0)])
            written += _clone_tenant(conn, plan, t, template, coses)
        if progress and (t + 1) % max(1, plan.tenants // 20) == 0:
            rate = written / (time.monotonic() - started)
            print(f"  {t + 1} tenants, {written:,} passkeys, {rate:,.0f}/s", file=sys.stderr)
    return made


def _database_url(given: str, admin_url: str, key_file: Path) -> str:
    if given == "sqlite":
        database = key_file.with_suffix(".db").absolute()
        for suffix in ("", "-wal", "-shm"):
            Path(f"{database}{suffix}").unlink(missing_ok=True)
        return f"sqlite:///{database}"
    if given == "postgresql":
        return servers.create_postgres_database(DEFAULT_PG_DATABASE, admin_url)
    return given


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.seed", description=__doc__.split("\n")[0]
    )
    parser.add_argument(
        "--database",
        default="sqlite",
        help="sqlite (a file named like the key file, remade), postgresql (database"
        f" {DEFAULT_PG_DATABASE}, remade) or the SQLAlchemy URL of an empty database",
    )
    parser.add_argument("--tenants", type=int, default=1000)
    parser.add_argument("--passkeys", type=int, default=1_000_000, help="in all, split evenly")
    parser.add_argument("--keys", type=int, default=64, help="distinct EC key pairs to share")
    parser.add_argument("--origin", default=servers.BENCH_ORIGIN)
    parser.add_argument("--out", type=Path, default=DEFAULT_KEY_FILE, help="key file to write")
    parser.add_argument("--postgres-admin-url", default=servers.POSTGRES_ADMIN_URL)
    parser.add_argument("--drop", action="store_true", help="drop the seeded PostgreSQL database")
    args = parser.parse_args(argv)
    if args.drop:
        servers.drop_postgres_database(DEFAULT_PG_DATABASE, args.postgres_admin_url)
        return 0
    per = max(1, args.passkeys // args.tenants)
    keys = [
        f"{ec.generate_private_key(ec.SECP256R1()).private_numbers().private_value:064x}"
        for _ in range(args.keys)
    ]
    url = _database_url(args.database, args.postgres_admin_url, args.out)
    plan = Plan(url, args.tenants, per, keys, os.urandom(32), args.origin)
    started = time.monotonic()
    made = seed(plan)
    elapsed = time.monotonic() - started
    write_key_file(args.out, plan, made)
    total = per * args.tenants
    rate = total / elapsed
    print(f"seeded {total:,} passkeys in {args.tenants:,} tenants: {elapsed:.0f} s, {rate:,.0f}/s")
    print(f"key file: {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
