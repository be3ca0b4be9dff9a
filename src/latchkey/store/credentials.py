"""Credential (passkey) rows, always looked up within one tenant."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, fields
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Connection, bindparam, delete, insert, select, update

from latchkey.models import Credential, User
from latchkey.store import driver, passkey_uses
from latchkey.store.tables import credentials, users

T = TypeVar("T")


def _record(row: Any) -> Credential:
    return Credential(
        id=row.id,
        tenant_id=row.tenant_id,
        user_id=row.user_id,
        credential_id=row.credential_id,
        public_key=row.public_key,
        alg=row.alg,
        sign_count=row.sign_count,
        aaguid=row.aaguid,
        fmt=row.fmt,
        transports=tuple(row.transports),
        backup_eligible=row.backup_eligible,
        backup_state=row.backup_state,
        user_verified=row.user_verified,
        discoverable=row.discoverable,
        attachment=row.attachment,
        name=row.name,
        possible_clone=row.possible_clone,
        created_at=row.created_at,
        last_used_at=row.last_used_at,
    )


def add(conn: Connection, credential: Credential) -> None:
    values = asdict(credential)
    values["transports"] = list(credential.transports)
    conn.execute(insert(credentials).values(**values))


def exists(conn: Connection, tenant_id: str, credential_id: bytes) -> bool:
    query = select(credentials.c.id).where(
        credentials.c.tenant_id == tenant_id, credentials.c.credential_id == credential_id
    )
    return conn.execute(query).first() is not None


def is_stored(conn: Connection, row_id: str) -> bool:
    query = select(credentials.c.id).where(credentials.c.id == row_id)
    return conn.execute(query).first() is not None


def for_user(conn: Connection, tenant_id: str, user_id: str) -> list[Credential]:
    query = (
        select(credentials)
        .where(credentials.c.tenant_id == tenant_id, credentials.c.user_id == user_id)
        .order_by(credentials.c.created_at)
    )
    return [_record(r) for r in conn.execute(query)]


def among(conn: Connection, tenant_id: str, credential_ids: list[bytes]) -> list[Credential]:
    """The tenant's credentials whose WebAuthn credential id is one of these."""
    query = select(credentials).where(
        credentials.c.tenant_id == tenant_id, credentials.c.credential_id.in_(credential_ids)
    )
    return [_record(r) for r in conn.execute(query)]


def remove(conn: Connection, tenant_id: str, user_id: str, credential_row_id: str) -> bool:
    result = conn.execute(
        delete(credentials).where(
            credentials.c.tenant_id == tenant_id,
            credentials.c.user_id == user_id,
            credentials.c.id == credential_row_id,
        )
    )
    return result.rowcount == 1


_USER_COLUMNS = [c.label(f"u_{c.name}") for c in users.c]
_USER_AT = len(credentials.c)  # where the owner's columns start in a _WITH_OWNER row
_WITH_OWNER = (
    select(credentials, *_USER_COLUMNS)
    .join(users, users.c.id == credentials.c.user_id)
    .where(
        credentials.c.tenant_id == bindparam("b_tenant"),
        credentials.c.credential_id == bindparam("b_cid"),
    )
)


def with_owner(
    conn: Connection, tenant_id: str, credential_id: bytes
) -> tuple[Credential, User] | None:
    """The credential and its owner, found by credential id inside this tenant only."""
    return with_owner_row(driver.first(conn, *with_owner_query(tenant_id, credential_id)))


def with_owner_query(tenant_id: str, credential_id: bytes) -> tuple[Any, dict[str, Any]]:
    """`with_owner`'s statement and parameters, for a caller that runs it elsewhere (the hot
    path's Runtime.first); `with_owner_row` reads its row."""
    return _WITH_OWNER, {"b_tenant": tenant_id, "b_cid": credential_id}


def with_owner_row(row: Any) -> tuple[Credential, User] | None:
    if row is None:
        return None
    # By position (every sign-in reads one: 18 -> 4 µs against by name): the statement selects
    # each table's columns in its model's field order (`_same_order` holds it at import).
    found = row[:_USER_AT]
    transports = tuple(found[_TRANSPORTS])
    credential = _by_position(Credential)(
        *found[:_TRANSPORTS], transports, *found[_TRANSPORTS + 1 :]
    )
    return credential, _by_position(User)(*row[_USER_AT:])


def _by_position(model: type[T]) -> Callable[..., T]:
    # The model's constructor as mypy lets it take a row's slice (it cannot count a starred one).
    return model


def _same_order(table: Any, model: type) -> None:
    if [c.name for c in table.c] != [f.name for f in fields(model)]:
        raise TypeError(f"{table.name}'s columns are not {model.__name__}'s fields, in order")


_same_order(credentials, Credential)
_same_order(users, User)
_TRANSPORTS = [c.name for c in credentials.c].index("transports")


def record_use(
    conn: Connection,
    *,
    credential_row_id: str,
    new_count: int,
    backup_state: bool,
    used_at: datetime,
) -> bool:
    """Store a verified use under the sign-count rule (store/passkey_uses.py). False when
    the stored count is already >= ours, or the credential is gone."""
    return passkey_uses.record(
        conn,
        _USES,
        row_id=credential_row_id,
        new_count=new_count,
        backup_state=backup_state,
        used_at=used_at,
    )


def record_use_with_holder(
    conn: Connection,
    *,
    credential_row_id: str,
    new_count: int,
    backup_state: bool,
    used_at: datetime,
) -> User | None:
    """`record_use` and the holder as stored now, in one statement (PostgreSQL only: one round
    trip instead of two); None when the use was not stored."""
    if conn.dialect.name != "postgresql":
        raise ValueError("SQLite's RETURNING cannot name the holder's table")
    row = passkey_uses.record_returning(
        conn,
        _USES_WITH_HOLDER,
        row_id=credential_row_id,
        new_count=new_count,
        backup_state=backup_state,
        used_at=used_at,
    )
    return None if row is None else User(*row)


_USES = passkey_uses.statements(credentials)
_USES_WITH_HOLDER = passkey_uses.statements(credentials, holder=(users, credentials.c.user_id))


def mark_possible_clone(conn: Connection, credential_row_id: str) -> None:
    passkey_uses.mark_possible_clone(conn, credentials, credential_row_id)


def rename(
    conn: Connection, tenant_id: str, user_id: str, credential_row_id: str, name: str
) -> bool:
    result = conn.execute(
        update(credentials)
        .where(
            credentials.c.tenant_id == tenant_id,
            credentials.c.user_id == user_id,
            credentials.c.id == credential_row_id,
        )
        .values(name=name)
    )
    return result.rowcount == 1
