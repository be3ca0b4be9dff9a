"""Alembic environment: runs on the connection latchkey.store.migrate hands it."""

from __future__ import annotations

from alembic import context

from latchkey.store.tables import metadata

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through `latchkey migrate`, which supplies the connection")

context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
