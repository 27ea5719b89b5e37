"""Agents, routing rules, queues and "any public KB article" are kept between units of work and are
never stale: a change by another process (another engine here), through deskbot or by hand, is
seen by the next unit; a unit that changed the catalog and rolled back leaves nothing behind;
once kept, a unit reads none of them again (SQLite: not even the version, which comes with
BEGIN). On SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.domain.model import Role
from bot.domain.refs import RefFormat
from storage.engine import create_engine
from storage.migrate import migrate
from storage.uow import SqlUnitOfWork

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
WATCHED = ("agent", "routing_rules", "queues", "kb_articles", "catalog_version")


@pytest.fixture
async def engines(db_url: str) -> AsyncIterator[tuple[AsyncEngine, AsyncEngine]]:
    """Two engines on one database: two deskbot processes."""
    first, second = create_engine(db_url), create_engine(db_url)
    await migrate(first)
    yield first, second
    await first.dispose()
    await second.dispose()


async def _catalog(engine: AsyncEngine) -> tuple[Any, ...]:
    async with SqlUnitOfWork(engine, RefFormat()) as uow:
        await uow.customers.get(1)  # a unit reads something first (ingest: its dedupe check)
        await uow.agents.prefetch([("console", "bob"), ("console", "alice")])
        bob = await uow.agents.by_identity("console", "bob")
        alice = await uow.agents.by_identity("console", "alice")
        rules = [r.name for r in await uow.rules.list()]
        queue = await uow.queues.get("billing")
        agents = [a.name if a else None for a in (bob, alice)]
        return agents, rules, queue.description if queue else None, await uow.kb.any_public()


def _statements(engine: AsyncEngine) -> list[str]:
    """The statements this engine sends that read or write the catalog, from now on."""
    seen: list[str] = []

    @event.listens_for(engine.sync_engine, "before_cursor_execute")
    def _record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if any(name in statement for name in WATCHED):
            seen.append(statement)

    return seen


async def test_kept_between_units_and_changes_by_anyone_are_seen(
    engines: tuple[AsyncEngine, AsyncEngine],
) -> None:
    mine, theirs = engines
    nobody = [None, None]
    assert await _catalog(mine) == (nobody, [], None, False)
    seen = _statements(mine)
    assert await _catalog(mine) == (nobody, [], None, False)
    pg = mine.dialect.name == "postgresql"
    assert seen == (["SELECT version FROM catalog_version WHERE id = 1"] if pg else [])

    async with SqlUnitOfWork(theirs, RefFormat()) as uow:  # through deskbot
        await uow.rules.add("vip", {"when": {}, "then": {}}, "admin", NOW)
        await uow.queues.add("billing", "Invoices")
        bob = await uow.agents.add("Bob", Role.AGENT, NOW)
        await uow.agents.add_identity(bob.id, "console", "bob")
        await uow.commit()
    assert await _catalog(mine) == (["Bob", None], ["vip"], "Invoices", False)

    async with theirs.begin() as conn:  # by hand
        await conn.execute(text("UPDATE queues SET description = 'Money' WHERE name = 'billing'"))
        await conn.execute(
            text(
                "INSERT INTO kb_articles (slug, title, body, tags, keywords, visibility, state,"
                " created_at, updated_at) VALUES ('a', 'A', 'b', '[]', '[]', 'public',"
                " 'published', :at, :at)"
            ),
            {"at": NOW},
        )
        await conn.execute(text("UPDATE agents SET name = 'Robert'"))
    assert await _catalog(mine) == (["Robert", None], ["vip"], "Money", True)

    async with theirs.begin() as conn:  # only state and visibility count on articles
        version = "SELECT version FROM catalog_version"
        before = (await conn.execute(text(version))).scalar_one()
        await conn.execute(text("UPDATE kb_articles SET title = 'B'"))
        assert (await conn.execute(text(version))).scalar_one() == before
        await conn.execute(text("UPDATE kb_articles SET state = 'archived'"))
        assert (await conn.execute(text(version))).scalar_one() == before + 1
        await conn.execute(text("UPDATE agents SET active = false"))
    assert await _catalog(mine) == (nobody, ["vip"], "Money", False)

    async with theirs.begin() as conn:  # PostgreSQL's TRUNCATE has triggers of its own
        await conn.execute(text(f"{'TRUNCATE' if pg else 'DELETE FROM'} routing_rules"))
    assert await _catalog(mine) == (nobody, [], "Money", False)

    async with theirs.begin() as conn:  # without the row nothing is kept: nothing would tell
        await conn.execute(text("DELETE FROM catalog_version"))
    assert await _catalog(mine) == (nobody, [], "Money", False)
    async with theirs.begin() as conn:
        await conn.execute(text("UPDATE queues SET description = 'Cash' WHERE name = 'billing'"))
    assert await _catalog(mine) == (nobody, [], "Cash", False)


async def test_a_unit_that_changed_the_catalog_and_rolled_back_leaves_nothing_kept(
    engines: tuple[AsyncEngine, AsyncEngine],
) -> None:
    mine, _ = engines
    assert await _catalog(mine) == ([None, None], [], None, False)
    async with SqlUnitOfWork(mine, RefFormat()) as uow:
        await uow.rules.add("draft", {"when": {}, "then": {}}, "admin", NOW)
        await uow.queues.add("billing", "Invoices")
        alice = await uow.agents.add("Alice", Role.AGENT, NOW)
        await uow.agents.add_identity(alice.id, "console", "alice")
        assert [r.name for r in await uow.rules.list()] == ["draft"]  # its own change
        assert (await uow.queues.get("billing")).description == "Invoices"
        assert (await uow.agents.by_identity("console", "alice")) is not None
        # no commit: rolled back
    assert await _catalog(mine) == ([None, None], [], None, False)


async def test_migration_0012_goes_down_and_up(engines: tuple[AsyncEngine, AsyncEngine]) -> None:
    from alembic import command
    from sqlalchemy import inspect

    from storage.migrate import alembic_config

    mine, _ = engines

    def to(revision: str, sync_conn: Any) -> list[str]:
        cfg = alembic_config()
        cfg.attributes["connection"] = sync_conn
        if revision == "head":
            command.upgrade(cfg, revision)
        else:
            command.downgrade(cfg, revision)
        return list(inspect(sync_conn).get_table_names())

    async with mine.begin() as conn:
        assert "catalog_version" not in await conn.run_sync(lambda c: to("0011", c))
        await conn.execute(
            text("INSERT INTO queues (name, triage, settings) VALUES ('a', '{}', '{}')")
        )
        assert "catalog_version" in await conn.run_sync(lambda c: to("head", c))
        await conn.execute(text("DELETE FROM queues WHERE name = 'a'"))
        version = "SELECT version FROM catalog_version"
        assert (await conn.execute(text(version))).scalar_one() == 2
