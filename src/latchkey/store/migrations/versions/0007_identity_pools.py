"""Identity pools: flows, passwords, recovery codes, mail outbox, bot check, SSO, OIDC codes.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from latchkey.store.types import UTCDateTime

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def _fk(name: str, table: str, *, nullable: bool = False, ondelete: str = "CASCADE") -> sa.Column:
    return sa.Column(
        name, sa.String(36), sa.ForeignKey(f"{table}.id", ondelete=ondelete), nullable=nullable
    )


def upgrade() -> None:
    op.create_table(
        "flows",
        sa.Column("id", sa.String(64), primary_key=True),
        _fk("tenant_id", "tenants"),
        _fk("directory_id", "directories"),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("state", sa.String(32), nullable=False),
        sa.Column("cookie_hash", sa.LargeBinary(32), nullable=False),
        _fk("user_id", "users", nullable=True),
        sa.Column("context", sa.JSON, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("expires_at", UTCDateTime, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
    )
    op.create_index("ix_flows_expires_at", "flows", ["expires_at"])
    op.create_table(
        "passwords",
        sa.Column(
            "user_id",
            sa.String(36),
            sa.ForeignKey("users.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("hash", sa.String(255), nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
    )
    op.create_table(
        "recovery_codes",
        sa.Column("id", sa.String(36), primary_key=True),
        _fk("tenant_id", "tenants"),
        sa.Column(
            "flow_id",
            sa.String(64),
            sa.ForeignKey("flows.id", ondelete="CASCADE"),
            nullable=False,
        ),
        _fk("user_id", "users"),
        sa.Column("code_hash", sa.LargeBinary(32), nullable=False),
        sa.Column("link_hash", sa.LargeBinary(32), nullable=False, unique=True),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("expires_at", UTCDateTime, nullable=False),
        sa.Column("used_at", UTCDateTime),
    )
    op.create_index("ix_recovery_codes_flow_id", "recovery_codes", ["flow_id"])
    op.create_table(
        "mail_outbox",
        sa.Column("id", sa.String(36), primary_key=True),
        _fk("tenant_id", "tenants", nullable=True),
        sa.Column("sender", sa.String(320), nullable=False),
        sa.Column("recipient", sa.String(320), nullable=False),
        sa.Column("subject", sa.String(255), nullable=False),
        sa.Column("text_body", sa.Text, nullable=False),
        sa.Column("html_body", sa.Text),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("next_attempt_at", UTCDateTime, nullable=False),
        sa.Column("locked_until", UTCDateTime),
        sa.Column("last_error", sa.Text),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("sent_at", UTCDateTime),
    )
    op.create_index(
        "ix_mail_outbox_sent_at_next_attempt_at", "mail_outbox", ["sent_at", "next_attempt_at"]
    )
    op.create_table(
        "botcheck_spent",
        sa.Column("digest", sa.LargeBinary(32), primary_key=True),
        sa.Column("expires_at", UTCDateTime, nullable=False),
    )
    op.create_index("ix_botcheck_spent_expires_at", "botcheck_spent", ["expires_at"])
    op.create_table(
        "sso_sessions",
        sa.Column("id", sa.String(36), primary_key=True),
        _fk("tenant_id", "tenants"),
        _fk("user_id", "users"),
        sa.Column("token_hash", sa.LargeBinary(32), nullable=False, unique=True),
        sa.Column("amr", sa.JSON, nullable=False),
        sa.Column("auth_time", UTCDateTime, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("expires_at", UTCDateTime, nullable=False),
        sa.Column("revoked_at", UTCDateTime),
    )
    op.create_index("ix_sso_sessions_user_id", "sso_sessions", ["user_id"])
    op.create_table(
        "authorization_codes",
        sa.Column("code_hash", sa.LargeBinary(32), primary_key=True),
        _fk("tenant_id", "tenants"),
        _fk("app_id", "apps"),
        _fk("user_id", "users"),
        _fk("session_id", "sso_sessions", nullable=True, ondelete="SET NULL"),
        sa.Column("redirect_uri", sa.Text, nullable=False),
        sa.Column("scope", sa.String(1024), nullable=False),
        sa.Column("nonce", sa.String(255)),
        sa.Column("code_challenge", sa.String(128)),
        sa.Column("code_challenge_method", sa.String(8)),
        sa.Column("amr", sa.JSON, nullable=False),
        sa.Column("auth_time", UTCDateTime, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("expires_at", UTCDateTime, nullable=False),
        sa.Column("used_at", UTCDateTime),
        sa.Column("family_id", sa.String(36)),
    )


def downgrade() -> None:
    for table in (
        "authorization_codes",
        "sso_sessions",
        "botcheck_spent",
        "mail_outbox",
        "recovery_codes",
        "passwords",
        "flows",
    ):
        op.drop_table(table)
