"""Management API: operator tokens, disabled users, per-tenant event retention, event indexes.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from latchkey.store.types import UTCDateTime

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "operator_tokens",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("tenant_id", sa.String(36), sa.ForeignKey("tenants.id", ondelete="CASCADE")),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("prefix", sa.String(24), nullable=False),
        sa.Column("secret_hash", sa.LargeBinary(32), nullable=False, unique=True),
        sa.Column("created_by", sa.String(255), nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("revoked_at", UTCDateTime),
    )
    op.create_index("ix_operator_tokens_tenant_id", "operator_tokens", ["tenant_id"])
    op.add_column("tenants", sa.Column("event_retention_days", sa.Integer))
    op.add_column("users", sa.Column("disabled_at", UTCDateTime))
    op.create_index("ix_events_user_id", "events", ["user_id"])
    op.create_index("ix_events_credential_id", "events", ["credential_id"])


def downgrade() -> None:
    op.drop_index("ix_events_credential_id", "events")
    op.drop_index("ix_events_user_id", "events")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("disabled_at")
    with op.batch_alter_table("tenants") as batch:
        batch.drop_column("event_retention_days")
    op.drop_index("ix_operator_tokens_tenant_id", "operator_tokens")
    op.drop_table("operator_tokens")
