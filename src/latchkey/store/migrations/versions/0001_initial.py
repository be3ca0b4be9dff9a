"""Initial schema: tenants, API keys, users, credentials, challenges, events.

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from latchkey.store.types import UTCDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _tenant_fk() -> sa.Column:
    return sa.Column(
        "tenant_id", sa.String(36), sa.ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False
    )


def upgrade() -> None:
    op.create_table(
        "tenants",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("rp_id", sa.String(253), nullable=False),
        sa.Column("rp_name", sa.String(200), nullable=False),
        sa.Column("origins", sa.JSON, nullable=False),
        sa.Column("policy", sa.JSON, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
    )
    op.create_table(
        "api_keys",
        sa.Column("id", sa.String(36), primary_key=True),
        _tenant_fk(),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("prefix", sa.String(24), nullable=False),
        sa.Column("secret_hash", sa.LargeBinary(32), nullable=False),
        sa.UniqueConstraint("secret_hash", name="uq_api_keys_secret_hash"),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("revoked_at", UTCDateTime),
    )
    op.create_index("ix_api_keys_tenant_id", "api_keys", ["tenant_id"])
    op.create_table(
        "users",
        sa.Column("id", sa.String(36), primary_key=True),
        _tenant_fk(),
        sa.Column("external_id", sa.String(255), nullable=False),
        sa.Column("user_handle", sa.LargeBinary(64), nullable=False),
        sa.Column("username", sa.String(255)),
        sa.Column("display_name", sa.String(255)),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
        sa.UniqueConstraint("tenant_id", "external_id", name="uq_users_tenant_id_external_id"),
        sa.UniqueConstraint("tenant_id", "user_handle", name="uq_users_tenant_id_user_handle"),
    )
    op.create_table(
        "credentials",
        sa.Column("id", sa.String(36), primary_key=True),
        _tenant_fk(),
        sa.Column(
            "user_id", sa.String(36), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("credential_id", sa.LargeBinary(1023), nullable=False),
        sa.Column("public_key", sa.LargeBinary, nullable=False),
        sa.Column("alg", sa.Integer, nullable=False),
        sa.Column("sign_count", sa.BigInteger, nullable=False),
        sa.Column("aaguid", sa.String(36), nullable=False),
        sa.Column("fmt", sa.String(32), nullable=False),
        sa.Column("transports", sa.JSON, nullable=False),
        sa.Column("backup_eligible", sa.Boolean, nullable=False),
        sa.Column("backup_state", sa.Boolean, nullable=False),
        sa.Column("user_verified", sa.Boolean, nullable=False),
        sa.Column("discoverable", sa.Boolean),
        sa.Column("attachment", sa.String(16)),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("possible_clone", sa.Boolean, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("last_used_at", UTCDateTime),
        sa.UniqueConstraint(
            "tenant_id", "credential_id", name="uq_credentials_tenant_id_credential_id"
        ),
    )
    op.create_index("ix_credentials_user_id", "credentials", ["user_id"])
    op.create_table(
        "challenges",
        sa.Column("id", sa.String(64), primary_key=True),
        _tenant_fk(),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("user_id", sa.String(36), sa.ForeignKey("users.id", ondelete="CASCADE")),
        sa.Column("challenge", sa.LargeBinary(64), nullable=False),
        sa.Column("context", sa.JSON, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("expires_at", UTCDateTime, nullable=False),
        sa.Column("consumed_at", UTCDateTime),
    )
    op.create_index("ix_challenges_expires_at", "challenges", ["expires_at"])
    op.create_table(
        "events",
        sa.Column("id", sa.String(36), primary_key=True),
        _tenant_fk(),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("reason", sa.String(64)),
        sa.Column("user_id", sa.String(36), sa.ForeignKey("users.id", ondelete="SET NULL")),
        sa.Column(
            "credential_id", sa.String(36), sa.ForeignKey("credentials.id", ondelete="SET NULL")
        ),
        sa.Column("ip", sa.String(64)),
        sa.Column("user_agent", sa.Text),
        sa.Column("detail", sa.JSON, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
    )
    op.create_index("ix_events_tenant_id_created_at", "events", ["tenant_id", "created_at"])


def downgrade() -> None:
    for table in ("events", "challenges", "credentials", "users", "api_keys", "tenants"):
        op.drop_table(table)
