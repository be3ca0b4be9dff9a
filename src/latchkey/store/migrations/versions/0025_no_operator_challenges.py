"""The portal's own challenge table goes: its ceremonies are the shared ones, whose sign-in and
enrolment challenges are sealed into their ids and used up in `used_challenges`.

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from latchkey.store.types import UTCDateTime

revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_operator_challenges_expires_at", "operator_challenges")
    op.drop_table("operator_challenges")


def downgrade() -> None:
    op.create_table(
        "operator_challenges",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column(
            "enrolment_id",
            sa.String(36),
            sa.ForeignKey("operator_enrolments.id", ondelete="CASCADE"),
        ),
        sa.Column("challenge", sa.LargeBinary(64), nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("expires_at", UTCDateTime, nullable=False),
        sa.Column("consumed_at", UTCDateTime),
    )
    op.create_index("ix_operator_challenges_expires_at", "operator_challenges", ["expires_at"])
