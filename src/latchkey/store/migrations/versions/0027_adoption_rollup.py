"""The adoption figures' rollup of closed days: per tenant, pool and UTC day, the counts and
the packed sets the funnel reads instead of the day's events (services/adoption_rollup.py).

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0027"
down_revision = "0026"
branch_labels = None
depends_on = None


def _tenant() -> sa.Column[str]:
    return sa.Column(
        "tenant_id", sa.String(36), sa.ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False
    )


def upgrade() -> None:
    op.create_table(
        "adoption_rollups",
        sa.Column(
            "tenant_id",
            sa.String(36),
            sa.ForeignKey("tenants.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("rolled_through", sa.Date()),
        sa.Column("next_user", sa.Integer(), nullable=False),
        sa.Column("next_passkey", sa.Integer(), nullable=False),
    )
    op.create_table(
        "adoption_user_ordinals",
        _tenant(),
        sa.Column("ordinal", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.String(36), sa.ForeignKey("users.id", ondelete="SET NULL")),
        sa.PrimaryKeyConstraint("tenant_id", "ordinal"),
        sa.UniqueConstraint("user_id", "tenant_id"),
    )
    op.create_table(
        "adoption_passkey_ordinals",
        _tenant(),
        sa.Column("ordinal", sa.Integer(), nullable=False),
        sa.Column(
            "credential_id", sa.String(36), sa.ForeignKey("credentials.id", ondelete="SET NULL")
        ),
        sa.Column("aaguid", sa.String(36), nullable=False),
        sa.Column("backup_eligible", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "ordinal"),
        sa.UniqueConstraint("credential_id", "tenant_id"),
    )
    for table, column in (
        ("adoption_user_ordinals", "user_id"),
        ("adoption_passkey_ordinals", "credential_id"),
    ):
        op.create_index(f"ix_{table}_tenant_id_{column}", table, ["tenant_id", column])
    op.create_table(
        "adoption_day_counts",
        _tenant(),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("pool_id", sa.Text()),
        sa.Column("figure", sa.String(16), nullable=False),
        sa.Column("kind", sa.String(64)),
        sa.Column("name", sa.Text()),
        sa.Column("n", sa.Integer(), nullable=False),
    )
    op.create_table(
        "adoption_day_sets",
        _tenant(),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("pool_id", sa.Text()),
        sa.Column("users", sa.LargeBinary(), nullable=False),
        sa.Column("times", sa.LargeBinary(), nullable=False),
        sa.Column("passkeys", sa.LargeBinary(), nullable=False),
    )
    for table in ("adoption_day_counts", "adoption_day_sets"):
        op.create_index(f"ix_{table}_tenant_id_day", table, ["tenant_id", "day"])


def downgrade() -> None:
    for table in ("adoption_day_sets", "adoption_day_counts"):
        op.drop_index(f"ix_{table}_tenant_id_day", table)
        op.drop_table(table)
    for table, column in (
        ("adoption_passkey_ordinals", "credential_id"),
        ("adoption_user_ordinals", "user_id"),
    ):
        op.drop_index(f"ix_{table}_tenant_id_{column}", table)
        op.drop_table(table)
    op.drop_table("adoption_rollups")
