"""Alembic environment: runs on the connection deskbot hands it (async engines via run_sync)."""

from __future__ import annotations

from alembic import context

from storage.tables import metadata

target_metadata = metadata
connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - deskbot always passes its connection
    raise RuntimeError("run migrations through `deskbot migrate`")
context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
