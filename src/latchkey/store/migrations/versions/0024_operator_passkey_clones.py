"""Operator passkeys are flagged as possibly cloned, as tenants' passkeys are, when a sign-in's
sign count does not rise (the portal signs in through the shared ceremony).

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("operator_passkeys") as batch:
        batch.add_column(
            sa.Column("possible_clone", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    with op.batch_alter_table("operator_passkeys") as batch:
        batch.drop_column("possible_clone")
