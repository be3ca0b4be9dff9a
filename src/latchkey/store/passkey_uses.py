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


def statements(table: Table) -> UseStatements:
    def record(rule: Any) -> Any:
        return (
            update(table)
            .where(table.c.id == bindparam("b_id"), rule)
            .values(
                sign_count=bindparam("b_new"),
                backup_state=bindparam("b_backup"),
                last_used_at=bindparam("b_at"),
            )
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
    statement = statements.counting if new_count else statements.counterless
    params = {
        "b_id": row_id,
        "b_new": new_count,
        "b_backup": backup_state,
        "b_at": used_at,
    }
    return bool(driver.execute(conn, statement, params).rowcount == 1)


def mark_possible_clone(conn: Connection, table: Table, row_id: str) -> None:
    conn.execute(update(table).where(table.c.id == row_id).values(possible_clone=True))
