"""Signing keys, refresh tokens and tenants' custom domains.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from latchkey.store.types import UTCDateTime

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def _fk(name: str, table: str) -> sa.Column:
    return sa.Column(
        name, sa.String(36), sa.ForeignKey(f"{table}.id", ondelete="CASCADE"), nullable=False
    )


def upgrade() -> None:
    op.create_table(
        "signing_keys",
        sa.Column("kid", sa.String(64), primary_key=True),
        _fk("tenant_id", "tenants"),
        sa.Column("alg", sa.String(8), nullable=False),
        sa.Column("sealed_private_key", sa.LargeBinary, nullable=False),
        sa.Column("public_jwk", sa.JSON, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("retired_at", UTCDateTime),
    )
    op.create_index("ix_signing_keys_tenant_id", "signing_keys", ["tenant_id"])
    op.create_table(
        "refresh_tokens",
        sa.Column("token_hash", sa.LargeBinary(32), primary_key=True),
        _fk("tenant_id", "tenants"),
        _fk("app_id", "apps"),
        _fk("user_id", "users"),
        sa.Column("family_id", sa.String(36), nullable=False),
        sa.Column("scope", sa.String(1024), nullable=False),
        sa.Column("amr", sa.JSON, nullable=False),
        sa.Column("auth_time", UTCDateTime, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("expires_at", UTCDateTime, nullable=False),
        sa.Column("used_at", UTCDateTime),
        sa.Column("revoked_at", UTCDateTime),
    )
    op.create_index("ix_refresh_tokens_family_id", "refresh_tokens", ["family_id"])
    op.create_index("ix_refresh_tokens_user_id", "refresh_tokens", ["user_id"])
    op.create_table(
        "tenant_domains",
        sa.Column("domain", sa.String(253), primary_key=True),
        _fk("tenant_id", "tenants"),
    )
    op.create_index("ix_tenant_domains_tenant_id", "tenant_domains", ["tenant_id"])


def downgrade() -> None:
    op.drop_table("tenant_domains")
    op.drop_table("refresh_tokens")
    op.drop_table("signing_keys")
