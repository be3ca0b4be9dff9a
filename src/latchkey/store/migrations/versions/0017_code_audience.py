"""The API audience an authorization request named (Auth0's `audience`, RFC 8707 `resource`),
carried by its code to the token exchange.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("authorization_codes", sa.Column("audience", sa.String(1024)))


def downgrade() -> None:
    with op.batch_alter_table("authorization_codes") as batch:
        batch.drop_column("audience")
