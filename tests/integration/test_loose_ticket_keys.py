"""Migration 0014 drops the foreign keys from history and outbox to tickets and keeps the rest
of both tables (rows, ids, indexes, SQLite's AUTOINCREMENT); the test fixtures' orphan check
takes the keys' place."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from storage import tables as t
from storage.engine import create_engine
from storage.migrate import alembic_config, ensure_schema
from tests.conftest import orphan_rows

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def _to(sync_conn: Any, revision: str, down: bool = False) -> None:
    cfg = alembic_config()
    cfg.attributes["connection"] = sync_conn
    (command.downgrade if down else command.upgrade)(cfg, revision)


def _history(ticket_id: int) -> dict[str, Any]:
    return dict(ticket_id=ticket_id, at=NOW, actor="a", kind="note", old=None, new=None)


def _outbox(ticket_id: int | None) -> dict[str, Any]:
    return dict(
        ticket_id=ticket_id, platform="console", audience="agents", kind="card",
        conversation_key="console:agents", text="", next_attempt_at=NOW, created_at=NOW,
    )  # fmt: skip


def _indexes(sync_conn: Any) -> dict[str, set[str]]:
    found = sa.inspect(sync_conn)
    return {
        table: {ix["name"] for ix in found.get_indexes(table)} for table in ("history", "outbox")
    }


def _keys(sync_conn: Any) -> dict[str, list[Any]]:
    found = sa.inspect(sync_conn)
    return {table: found.get_foreign_keys(table) for table in ("history", "outbox")}


async def test_keys_go_and_everything_else_stays(db_url: str) -> None:
    engine = create_engine(db_url)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(_to, "0013")
            indexes = await conn.run_sync(_indexes)
            await conn.execute(t.customers.insert().values(id=1, name="c", created_at=NOW))
            await conn.execute(
                t.tickets.insert().values(
                    id=1, subject="s", status="open", priority="normal", queue="general",
                    customer_id=1, tags=[], origin="console", conversation_key="c1",
                    created_at=NOW, updated_at=NOW, version=1,
                )
            )  # fmt: skip
            await conn.execute(t.history.insert(), [_history(1)] * 3)
            await conn.execute(t.outbox.insert(), [_outbox(1), _outbox(None), _outbox(1)])
            await conn.execute(t.outbox.delete().where(t.outbox.c.id == 3))  # pruned: the top id
            assert (await conn.run_sync(_keys))["history"]
            await conn.run_sync(_to, "0014")

            assert await conn.run_sync(_keys) == {"history": [], "outbox": []}
            assert await conn.run_sync(_indexes) == indexes  # the partial ones included
            assert (await conn.execute(select(t.history.c.id))).scalars().all() == [1, 2, 3]
            assert (await conn.execute(select(t.outbox.c.ticket_id))).scalars().all() == [1, None]
            new_id = (await conn.execute(t.outbox.insert().values(_outbox(1)))).inserted_primary_key
            assert new_id is not None and new_id[0] == 4  # an id handed out once is not reused

            await conn.run_sync(_to, "0013", True)
            assert {k["referred_table"] for k in (await conn.run_sync(_keys))["outbox"]} == {
                "tickets"
            }
            assert await conn.run_sync(_indexes) == indexes
        with pytest.raises(IntegrityError):  # the downgrade's keys are enforced again
            async with engine.begin() as conn:
                await conn.execute(t.history.insert().values(_history(99)))
    finally:
        await engine.dispose()


async def test_the_fixtures_find_rows_of_tickets_that_do_not_exist(db_url: str) -> None:
    engine = create_engine(db_url)
    try:
        await ensure_schema(engine)
        assert await orphan_rows(db_url) == []
        async with engine.begin() as conn:
            await conn.execute(t.history.insert().values(_history(99)))
            await conn.execute(t.outbox.insert(), [_outbox(98), _outbox(None)])
        found = sorted((table, ticket) for table, _, ticket in await orphan_rows(db_url))
        assert found == [("history", 99), ("outbox", 98)]
        async with engine.begin() as conn:  # leave the database clean for the fixture's check
            await conn.execute(t.history.delete())
            await conn.execute(t.outbox.delete())
    finally:
        await engine.dispose()
