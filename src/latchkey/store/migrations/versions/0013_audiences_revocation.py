"""OAuth audiences and revocation: the API audiences an app may ask access tokens for, the
audience a refresh-token family keeps, and revoked access tokens (RFC 7009) until they expire.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from latchkey.store.types import UTCDateTime

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("apps") as batch:
        batch.add_column(sa.Column("audiences", sa.JSON))
    op.execute("UPDATE apps SET audiences = '[]'")
    with op.batch_alter_table("apps") as batch:
        batch.alter_column("audiences", existing_type=sa.JSON, nullable=False)
    op.add_column("refresh_tokens", sa.Column("audience", sa.String(1024)))
    op.create_table(
        "revoked_access_tokens",
        sa.Column("jti", sa.String(36), primary_key=True),
        sa.Column(
            "tenant_id",
            sa.String(36),
            sa.ForeignKey("tenants.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("expires_at", UTCDateTime, nullable=False),
    )
    op.create_index("ix_revoked_access_tokens_expires_at", "revoked_access_tokens", ["expires_at"])


def downgrade() -> None:
    op.drop_index("ix_revoked_access_tokens_expires_at", "revoked_access_tokens")
    op.drop_table("revoked_access_tokens")
    with op.batch_alter_table("refresh_tokens") as batch:
        batch.drop_column("audience")
    with op.batch_alter_table("apps") as batch:
        batch.drop_column("audiences")
