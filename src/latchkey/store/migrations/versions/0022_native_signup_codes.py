"""A code may belong to no account yet: a native sign-up's e-mail code is mailed before the
account exists (it is stored only once the code is proved).

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("recovery_codes") as batch:
        batch.alter_column("user_id", existing_type=sa.String(36), nullable=True)


def downgrade() -> None:
    op.execute("DELETE FROM recovery_codes WHERE user_id IS NULL")
    with op.batch_alter_table("recovery_codes") as batch:
        batch.alter_column("user_id", existing_type=sa.String(36), nullable=False)
