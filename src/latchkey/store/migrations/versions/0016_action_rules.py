"""Action tokens follow their action: anonymous sign-ins marked, tracked action names reserved,
a tenant's list of anonymous action names.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from latchkey.store.types import UTCDateTime

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "actions", sa.Column("anonymous", sa.Boolean, nullable=False, server_default=sa.false())
    )
    op.create_table(
        "tracked_action_names",
        sa.Column(
            "tenant_id",
            sa.String(36),
            sa.ForeignKey("tenants.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("action", sa.String(64), primary_key=True),
        sa.Column("created_at", UTCDateTime, nullable=False),
    )
    op.add_column("tenants", sa.Column("anonymous_actions", sa.JSON))


def downgrade() -> None:
    with op.batch_alter_table("tenants") as batch:
        batch.drop_column("anonymous_actions")
    op.drop_table("tracked_action_names")
    with op.batch_alter_table("actions") as batch:
        batch.drop_column("anonymous")
