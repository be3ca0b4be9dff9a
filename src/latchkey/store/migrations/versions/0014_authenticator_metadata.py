"""FIDO metadata loaded by operators (MDS3 blobs, by serial number), the alerts a status change
raised per tenant, and an index to find a model's stored passkeys.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from latchkey.store.types import UTCDateTime

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "authenticator_metadata",
        sa.Column("no", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("next_update", sa.Date, nullable=False),
        sa.Column("source", sa.String(255), nullable=False),
        sa.Column("payload", sa.Text, nullable=False),
        sa.Column("loaded_at", UTCDateTime, nullable=False),
    )
    op.create_table(
        "authenticator_alerts",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column(
            "tenant_id",
            sa.String(36),
            sa.ForeignKey("tenants.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("aaguid", sa.String(36), nullable=False),
        sa.Column("model", sa.String(255), nullable=False),
        sa.Column("status", sa.String(64), nullable=False),
        sa.Column("previous_status", sa.String(64)),
        sa.Column("metadata_no", sa.Integer, nullable=False),
        sa.Column("rule", sa.String(16), nullable=False),
        sa.Column("passkeys", sa.Integer, nullable=False),
        sa.Column("users", sa.Integer, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
    )
    op.create_index(
        "ix_authenticator_alerts_tenant_id_created_at",
        "authenticator_alerts",
        ["tenant_id", "created_at"],
    )
    op.create_index("ix_credentials_aaguid", "credentials", ["aaguid"])


def downgrade() -> None:
    op.drop_index("ix_credentials_aaguid", table_name="credentials")
    op.drop_index("ix_authenticator_alerts_tenant_id_created_at", table_name="authenticator_alerts")
    op.drop_table("authenticator_alerts")
    op.drop_table("authenticator_metadata")
