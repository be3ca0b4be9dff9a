"""Recovery mails are limited per account and per recipient: the counts of the last minutes
are read through these indexes.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-05
"""

from __future__ import annotations

from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_recovery_codes_user_id_created_at", "recovery_codes", ["user_id", "created_at"]
    )
    op.create_index(
        "ix_mail_outbox_recipient_created_at", "mail_outbox", ["recipient", "created_at"]
    )


def downgrade() -> None:
    op.drop_index("ix_mail_outbox_recipient_created_at", "mail_outbox")
    op.drop_index("ix_recovery_codes_user_id_created_at", "recovery_codes")
