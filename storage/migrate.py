"""Schema at start-up: create an empty database, refuse an old or newer one; `deskbot migrate`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlalchemy.ext.asyncio import AsyncEngine

MIGRATIONS = Path(__file__).with_name("migrations")


class SchemaError(RuntimeError):
    """The database is not at the schema this code expects; the message says what to do."""


def alembic_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


def _state(sync_conn: Any) -> tuple[str | None, bool]:
    current = MigrationContext.configure(sync_conn).get_current_revision()
    has_tables = bool(inspect(sync_conn).get_table_names())
    return current, has_tables


def _upgrade(sync_conn: Any, cfg: Config) -> None:
    cfg.attributes["connection"] = sync_conn
    command.upgrade(cfg, "head")


async def ensure_schema(engine: AsyncEngine, *, ref_start: int = 1) -> str:
    """Create and migrate an empty database; stop on an outdated or unknown schema.

    Returns "created" or "current".
    """
    cfg = alembic_config()
    script = ScriptDirectory.from_config(cfg)
    head = script.get_current_head()
    async with engine.connect() as conn:
        current, has_tables = await conn.run_sync(_state)
    if current == head:
        return "current"
    if current is None and not has_tables:
        async with engine.begin() as conn:
            await conn.run_sync(_upgrade, cfg)
            await _set_ref_start(conn, engine, ref_start)
        return "created"
    known = {rev.revision for rev in script.walk_revisions()}
    if current is None:
        raise SchemaError(
            "The database has tables but no deskbot schema version; point "
            "DESKBOT_DATABASE_URL at an empty database or deskbot's own."
        )
    if current in known:
        raise SchemaError(
            f"The database schema is at {current}, older than this deskbot "
            f"({head}). Run `deskbot migrate` to upgrade it."
        )
    raise SchemaError(
        f"The database schema {current} is newer than this deskbot ({head}); "
        "upgrade deskbot before starting it on this database."
    )


async def migrate(engine: AsyncEngine) -> tuple[str | None, str | None]:
    """`deskbot migrate`: upgrade to head. Returns (before, after) revisions."""
    cfg = alembic_config()
    async with engine.connect() as conn:
        before, _ = await conn.run_sync(_state)
    async with engine.begin() as conn:
        await conn.run_sync(_upgrade, cfg)
    async with engine.connect() as conn:
        after, _ = await conn.run_sync(_state)
    return before, after


async def _set_ref_start(conn: Any, engine: AsyncEngine, start: int) -> None:
    if start <= 1:
        return
    if engine.dialect.name == "sqlite":
        await conn.execute(
            text("INSERT INTO sqlite_sequence (name, seq) VALUES ('tickets', :s)"), {"s": start - 1}
        )
    else:
        await conn.execute(text(f"ALTER SEQUENCE tickets_id_seq RESTART WITH {int(start)}"))
