"""Alembic environment: runs on the connection deskbot hands it (async engines via run_sync)."""

from __future__ import annotations

from alembic import context

from storage.tables import metadata

target_metadata = metadata
connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - deskbot always passes its connection
    raise RuntimeError("run migrations through `deskbot migrate`")


def include_object(
    obj: object, name: str | None, type_: str, reflected: bool, compare_to: object
) -> bool:
    """Autogenerate ignores the knowledge base's dialect-specific full-text objects (0004)."""
    if type_ == "table" and name and name.startswith("kb_fts"):
        return False
    table = getattr(obj, "table", None)
    return not (
        type_ == "column" and name == "search" and getattr(table, "name", "") == "kb_articles"
    )


context.configure(
    connection=connection,
    target_metadata=target_metadata,
    render_as_batch=True,
    include_object=include_object,
)
with context.begin_transaction():
    context.run_migrations()
