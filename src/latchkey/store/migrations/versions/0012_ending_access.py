"""Ending access: SSO sessions and refresh tokens name the passkey that opened them (so deleting
it ends them), and each app may set the absolute lifetime of its refresh-token families.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("sso_sessions", sa.Column("credential_id", sa.String(36)))
    op.create_index("ix_sso_sessions_credential_id", "sso_sessions", ["credential_id"])
    op.add_column("refresh_tokens", sa.Column("credential_id", sa.String(36)))
    op.create_index("ix_refresh_tokens_credential_id", "refresh_tokens", ["credential_id"])
    op.add_column("apps", sa.Column("refresh_token_lifetime", sa.Integer))


def downgrade() -> None:
    with op.batch_alter_table("apps") as batch:
        batch.drop_column("refresh_token_lifetime")
    op.drop_index("ix_refresh_tokens_credential_id", "refresh_tokens")
    with op.batch_alter_table("refresh_tokens") as batch:
        batch.drop_column("credential_id")
    op.drop_index("ix_sso_sessions_credential_id", "sso_sessions")
    with op.batch_alter_table("sso_sessions") as batch:
        batch.drop_column("credential_id")
