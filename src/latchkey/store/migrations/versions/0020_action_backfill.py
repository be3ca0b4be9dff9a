"""Actions from before 0016: the names backends tracked are reserved, and the sign-ins made
without an action token are marked anonymous. A tracked action is one an action token was
issued for (every track issues one); an anonymous sign-in never had one.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None

_actions = sa.table(
    "actions",
    sa.column("id"),
    sa.column("tenant_id"),
    sa.column("action"),
    sa.column("created_at"),
    sa.column("anonymous"),
)
_tokens = sa.table("tokens", sa.column("action_id"), sa.column("kind"))
_names = sa.table(
    "tracked_action_names", sa.column("tenant_id"), sa.column("action"), sa.column("created_at")
)


def upgrade() -> None:
    has_action_token = (
        sa.select(sa.literal(1))
        .select_from(_tokens)
        .where(_tokens.c.action_id == _actions.c.id, _tokens.c.kind == "action")
        .exists()
    )
    known = (
        sa.select(sa.literal(1))
        .select_from(_names)
        .where(_names.c.tenant_id == _actions.c.tenant_id, _names.c.action == _actions.c.action)
        .exists()
    )
    tracked = (
        sa.select(_actions.c.tenant_id, _actions.c.action, sa.func.min(_actions.c.created_at))
        .where(has_action_token, ~known)
        .group_by(_actions.c.tenant_id, _actions.c.action)
    )
    op.execute(_names.insert().from_select(["tenant_id", "action", "created_at"], tracked))
    op.execute(
        _actions.update()
        .where(_actions.c.anonymous == sa.false(), ~has_action_token)
        .values(anonymous=sa.true())
    )


def downgrade() -> None:
    pass  # data only: 0016's downgrade drops what this filled in
