"""The event's pool, the sign-in's method and its time to sign in as columns of the event
(beside the same fields in `detail`), so the adoption figures read them without parsing every
sign-in's JSON (services/adoption.py). Existing events are filled from their detail in
bounded batches.

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0026"
down_revision = "0025"
branch_labels = None
depends_on = None

# Rows per UPDATE: a large log is filled without one statement holding the database for long.
BATCH = 5000

_events = sa.table(
    "events",
    sa.column("id", sa.String),
    sa.column("detail", sa.JSON),
    sa.column("pool_id", sa.String),
    sa.column("method", sa.String),
    sa.column("elapsed_ms", sa.Integer),
)


def upgrade() -> None:
    op.add_column("events", sa.Column("pool_id", sa.Text))
    op.add_column("events", sa.Column("method", sa.Text))
    op.add_column("events", sa.Column("elapsed_ms", sa.Integer))
    conn = op.get_bind()
    detail = _events.c.detail
    last = ""
    while True:
        # Keyset over the primary key: each batch starts where the last one ended.
        ids = [
            r[0]
            for r in conn.execute(
                sa.select(_events.c.id)
                .where(_events.c.id > last)
                .order_by(_events.c.id)
                .limit(BATCH)
            )
        ]
        if not ids:
            break
        conn.execute(
            sa.update(_events)
            .where(_events.c.id.in_(ids))
            .values(
                pool_id=detail["pool_id"].as_string(),
                method=detail["method"].as_string(),
                elapsed_ms=detail["elapsed_ms"].as_integer(),
            )
        )
        last = ids[-1]


def downgrade() -> None:
    with op.batch_alter_table("events") as batch:
        batch.drop_column("elapsed_ms")
        batch.drop_column("method")
        batch.drop_column("pool_id")
