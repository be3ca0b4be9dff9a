"""A verified passkey use, stored under WebAuthn's sign-count rule (§7.2 step 22) for any table
of passkeys (a tenant's credentials, the portal's operator passkeys): the count must rise above
the stored one, or stay zero on an authenticator that keeps none. The rule is checked by the
UPDATE itself, against the count as stored when the use commits (not as some earlier read saw
it), so two concurrent sign-ins with the same counter value cannot both record, and a caller
may verify against a cached passkey; the loser's caller flags the passkey as possibly
cloned."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Table, bindparam, update

from latchkey.store import driver


@dataclass(frozen=True)
class UseStatements:
    """One table's two statements, built once (hot: see store/challenges.py)."""

    counting: Any
    counterless: Any


def statements(table: Table, *, holder: tuple[Table, Any] | None = None) -> UseStatements:
    """With `holder` (its table, and the passkey's column naming its row), each statement also
    returns the holder's row as stored now (UPDATE ... FROM ... RETURNING, which SQLite cannot
    do: its RETURNING names the updated table only)."""

    def record(rule: Any) -> Any:
        statement = update(table).where(table.c.id == bindparam("b_id"), rule)
        if holder is not None:
            owners, owner_id = holder
            statement = statement.where(owners.c.id == owner_id).returning(*owners.c)
        return statement.values(
            sign_count=bindparam("b_new"),
            backup_state=bindparam("b_backup"),
            last_used_at=bindparam("b_at"),
        )

    return UseStatements(
        counting=record(table.c.sign_count < bindparam("b_new")),
        # A zero count is allowed only while the stored one is zero too (counterless keys).
        counterless=record(table.c.sign_count == 0),
    )


def record(
    conn: Connection,
    statements: UseStatements,
    *,
    row_id: str,
    new_count: int,
    backup_state: bool,
    used_at: datetime,
) -> bool:
    """Store a verified use. False when the stored count is already >= ours (another use got
    there first, or a clone), or when the row is gone."""
    params = _params(row_id, new_count, backup_state, used_at)
    return driver.execute(conn, _statement(statements, new_count), params) == 1


def record_returning(
    conn: Connection,
    statements: UseStatements,
    *,
    row_id: str,
    new_count: int,
    backup_state: bool,
    used_at: datetime,
) -> Any:
    """As `record`, with statements made with a `holder`: the holder's row, or None."""
    params = _params(row_id, new_count, backup_state, used_at)
    return driver.first(conn, _statement(statements, new_count), params)


def _statement(statements: UseStatements, new_count: int) -> Any:
    return statements.counting if new_count else statements.counterless


def _params(row_id: str, new_count: int, backup_state: bool, used_at: datetime) -> dict[str, Any]:
    return {"b_id": row_id, "b_new": new_count, "b_backup": backup_state, "b_at": used_at}


def mark_possible_clone(conn: Connection, table: Table, row_id: str) -> None:
    conn.execute(update(table).where(table.c.id == row_id).values(possible_clone=True))
