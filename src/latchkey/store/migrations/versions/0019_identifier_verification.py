"""Verified identifiers: an e-mail (or phone number) is unverified until its owner proves it
with a mailed code or link; until then a verified owner may take the account over.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from latchkey.store.types import UTCDateTime

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("user_identifiers", sa.Column("verified_at", UTCDateTime))


def downgrade() -> None:
    with op.batch_alter_table("user_identifiers") as batch:
        batch.drop_column("verified_at")
