"""Operator portal: operators, their passkeys, one-time enrolment links, the portal's WebAuthn
challenges and portal sessions.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from latchkey.store.types import UTCDateTime

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def _operator_fk() -> sa.Column:
    return sa.Column(
        "operator_id",
        sa.String(36),
        sa.ForeignKey("operators.id", ondelete="CASCADE"),
        nullable=False,
    )


def upgrade() -> None:
    op.create_table(
        "operators",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("tenant_id", sa.String(36), sa.ForeignKey("tenants.id", ondelete="CASCADE")),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("user_handle", sa.LargeBinary(64), nullable=False, unique=True),
        sa.Column("created_by", sa.String(255), nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("disabled_at", UTCDateTime),
    )
    op.create_index("ix_operators_tenant_id", "operators", ["tenant_id"])
    op.create_table(
        "operator_passkeys",
        sa.Column("id", sa.String(36), primary_key=True),
        _operator_fk(),
        sa.Column("credential_id", sa.LargeBinary(1023), nullable=False, unique=True),
        sa.Column("public_key", sa.LargeBinary, nullable=False),
        sa.Column("alg", sa.Integer, nullable=False),
        sa.Column("sign_count", sa.BigInteger, nullable=False),
        sa.Column("aaguid", sa.String(36), nullable=False),
        sa.Column("backup_eligible", sa.Boolean, nullable=False),
        sa.Column("backup_state", sa.Boolean, nullable=False),
        sa.Column("transports", sa.JSON, nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("last_used_at", UTCDateTime),
    )
    op.create_index("ix_operator_passkeys_operator_id", "operator_passkeys", ["operator_id"])
    op.create_table(
        "operator_enrolments",
        sa.Column("id", sa.String(36), primary_key=True),
        _operator_fk(),
        sa.Column("secret_hash", sa.LargeBinary(32), nullable=False, unique=True),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("expires_at", UTCDateTime, nullable=False),
        sa.Column("used_at", UTCDateTime),
    )
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
    op.create_table(
        "portal_sessions",
        sa.Column("id", sa.String(36), primary_key=True),
        _operator_fk(),
        sa.Column("secret_hash", sa.LargeBinary(32), nullable=False, unique=True),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("expires_at", UTCDateTime, nullable=False),
        sa.Column("revoked_at", UTCDateTime),
        sa.Column("ip", sa.String(64)),
        sa.Column("user_agent", sa.String(512)),
    )
    op.create_index("ix_portal_sessions_operator_id", "portal_sessions", ["operator_id"])


def downgrade() -> None:
    op.drop_index("ix_portal_sessions_operator_id", "portal_sessions")
    op.drop_table("portal_sessions")
    op.drop_index("ix_operator_challenges_expires_at", "operator_challenges")
    op.drop_table("operator_challenges")
    op.drop_table("operator_enrolments")
    op.drop_index("ix_operator_passkeys_operator_id", "operator_passkeys")
    op.drop_table("operator_passkeys")
    op.drop_index("ix_operators_tenant_id", "operators")
    op.drop_table("operators")
