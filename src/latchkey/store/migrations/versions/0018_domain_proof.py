"""Domains are granted, then proved: each tenant domain gets a verification token and is served
only once proved (DNS TXT or an HTTP file). Domains claimed before this migration are not
proved: they serve nothing until `latchkey tenant verify-domain` proves them.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-05
"""

from __future__ import annotations

import secrets

import sqlalchemy as sa
from alembic import op

from latchkey.store.types import UTCDateTime

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("tenant_domains", sa.Column("verification_token", sa.String(64)))
    op.add_column("tenant_domains", sa.Column("verified_at", UTCDateTime))
    table = sa.table(
        "tenant_domains", sa.column("domain", sa.String), sa.column("verification_token", sa.String)
    )
    conn = op.get_bind()
    for (domain,) in conn.execute(sa.select(table.c.domain)).all():
        token = secrets.token_urlsafe(24)
        conn.execute(
            table.update().where(table.c.domain == domain).values(verification_token=token)
        )


def downgrade() -> None:
    with op.batch_alter_table("tenant_domains") as batch:
        batch.drop_column("verified_at")
        batch.drop_column("verification_token")
