"""Tenants' related origins (WebAuthn Related Origin Requests).

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("tenants") as batch:
        batch.add_column(sa.Column("related_origins", sa.JSON))
    op.execute("UPDATE tenants SET related_origins = '[]'")
    with op.batch_alter_table("tenants") as batch:
        batch.alter_column("related_origins", existing_type=sa.JSON, nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("tenants") as batch:
        batch.drop_column("related_origins")
