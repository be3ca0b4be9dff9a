"""The adoption figures' index: a tenant's events of one kind and outcome in time order, so
each of the funnel's counts reads only its own rows (services/adoption.py).

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-06
"""

from __future__ import annotations

from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_events_tenant_id_kind_outcome_created_at",
        "events",
        ["tenant_id", "kind", "outcome", "created_at"],
    )


def downgrade() -> None:
    op.drop_index("ix_events_tenant_id_kind_outcome_created_at", "events")
