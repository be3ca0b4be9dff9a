"""User directories (realms), unique sign-up identifiers, and apps (OAuth clients).

Every tenant gets a default directory and every existing user is placed in it.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

from latchkey.store.types import UTCDateTime

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

DEFAULT_IDENTIFIERS = {"email": "required"}


def _tenant_fk() -> sa.Column:
    return sa.Column(
        "tenant_id", sa.String(36), sa.ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False
    )


def _create_directories() -> None:
    op.create_table(
        "directories",
        sa.Column("id", sa.String(36), primary_key=True),
        _tenant_fk(),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("is_default", sa.Boolean, nullable=False),
        sa.Column("identifiers", sa.JSON, nullable=False),
        sa.Column("settings", sa.JSON, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
        sa.UniqueConstraint("tenant_id", "name", name="uq_directories_tenant_id_name"),
    )


def _backfill_default_directories() -> dict[str, str]:
    bind = op.get_bind()
    now = datetime.now(UTC)
    defaults: dict[str, str] = {}
    directories = sa.table(
        "directories",
        sa.column("id"),
        sa.column("tenant_id"),
        sa.column("name"),
        sa.column("is_default"),
        sa.column("identifiers", sa.JSON),
        sa.column("settings", sa.JSON),
        sa.column("created_at", UTCDateTime),
        sa.column("updated_at", UTCDateTime),
    )
    for (tenant_id,) in bind.execute(sa.text("SELECT id FROM tenants")):
        defaults[tenant_id] = str(uuid.uuid4())
        bind.execute(
            directories.insert().values(
                id=defaults[tenant_id],
                tenant_id=tenant_id,
                name="default",
                is_default=True,
                identifiers=dict(DEFAULT_IDENTIFIERS),
                settings={},
                created_at=now,
                updated_at=now,
            )
        )
    return defaults


def _move_users(defaults: dict[str, str]) -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("directory_id", sa.String(36)))
        batch.add_column(sa.Column("profile", sa.JSON))
    bind = op.get_bind()
    for tenant_id, directory_id in defaults.items():
        bind.execute(
            sa.text("UPDATE users SET directory_id = :d, profile = :p WHERE tenant_id = :t"),
            {"d": directory_id, "p": "{}", "t": tenant_id},
        )
    with op.batch_alter_table("users") as batch:
        batch.alter_column("directory_id", existing_type=sa.String(36), nullable=False)
        batch.alter_column("profile", existing_type=sa.JSON, nullable=False)
        batch.create_foreign_key(
            "fk_users_directory_id_directories",
            "directories",
            ["directory_id"],
            ["id"],
            ondelete="CASCADE",
        )
        batch.create_index("ix_users_directory_id", ["directory_id"])


def _create_identifiers_and_apps() -> None:
    op.create_table(
        "user_identifiers",
        sa.Column(
            "directory_id",
            sa.String(36),
            sa.ForeignKey("directories.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("kind", sa.String(16), primary_key=True),
        sa.Column("value", sa.String(320), primary_key=True),
        sa.Column(
            "user_id", sa.String(36), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False
        ),
    )
    op.create_index("ix_user_identifiers_user_id", "user_identifiers", ["user_id"])
    op.create_table(
        "apps",
        sa.Column("id", sa.String(36), primary_key=True),
        _tenant_fk(),
        sa.Column("client_id", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("app_type", sa.String(16), nullable=False),
        sa.Column("client_secret_hash", sa.LargeBinary(32)),
        sa.Column("redirect_uris", sa.JSON, nullable=False),
        sa.Column("grant_types", sa.JSON, nullable=False),
        sa.Column("ios_team_id", sa.String(10)),
        sa.Column("ios_bundle_id", sa.String(255)),
        sa.Column("android_package", sa.String(255)),
        sa.Column("android_fingerprints", sa.JSON, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
        sa.UniqueConstraint("client_id", name="uq_apps_client_id"),
    )
    op.create_index("ix_apps_tenant_id", "apps", ["tenant_id"])


def upgrade() -> None:
    _create_directories()
    _move_users(_backfill_default_directories())
    _create_identifiers_and_apps()


def downgrade() -> None:
    op.drop_table("apps")
    op.drop_table("user_identifiers")
    with op.batch_alter_table("users") as batch:
        batch.drop_index("ix_users_directory_id")
        batch.drop_constraint("fk_users_directory_id_directories", type_="foreignkey")
        batch.drop_column("profile")
        batch.drop_column("directory_id")
    op.drop_table("directories")
