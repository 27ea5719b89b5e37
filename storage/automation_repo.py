"""Routing rules added at run time, the assignment lock and cursors, and CSAT ratings."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from storage import tables as t
from storage.catalog_cache import Catalog
from storage.rows import aware


def upsert(conn: AsyncConnection, table: Any, values: dict[str, Any], keys: list[str]) -> Any:
    """INSERT … ON CONFLICT (keys) DO UPDATE, on SQLite and PostgreSQL."""
    module = postgresql if conn.dialect.name == "postgresql" else sqlite
    stmt = module.insert(table).values(**values)
    changes = {k: v for k, v in values.items() if k not in keys}
    return stmt.on_conflict_do_update(index_elements=keys, set_=changes)


class RuleRepository:
    """Rules added with `rules add`, after the settings file's rules, in the order added."""

    def __init__(self, conn: AsyncConnection, catalog: Catalog | None = None) -> None:
        self._conn = conn
        self._catalog = catalog or Catalog(conn, None)
        self._cache: list[Any] | None = None

    async def list(self) -> list[Any]:
        if self._cache is None:
            self._cache = list(await self._catalog.get("rules", self._load))
        return self._cache

    async def _load(self) -> tuple[Any, ...]:
        stmt = select(t.routing_rules).order_by(t.routing_rules.c.position)
        return tuple((await self._conn.execute(stmt)).all())

    async def add(self, name: str, definition: dict[str, Any], by: str, at: datetime) -> None:
        self._catalog.mark_changed()
        self._cache = None
        top = (await self._conn.execute(select(func.max(t.routing_rules.c.position)))).scalar()
        await self._conn.execute(delete(t.routing_rules).where(t.routing_rules.c.name == name))
        await self._conn.execute(
            insert(t.routing_rules).values(
                name=name, position=(top or 0) + 1, definition=definition, created_by=by,
                created_at=at,
            )
        )  # fmt: skip

    async def remove(self, name: str) -> bool:
        self._catalog.mark_changed()
        self._cache = None
        result = await self._conn.execute(
            delete(t.routing_rules).where(t.routing_rules.c.name == name)
        )
        return bool(result.rowcount)


class AssignmentRepository:
    """Auto-assignment state. `lock()` serialises assignment decisions across workers.

    PostgreSQL: a row lock on the "*" row, held to commit, so two workers never both see an
    agent under capacity or the same round-robin cursor. SQLite: writers already hold the
    database lock from BEGIN IMMEDIATE.
    """

    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn
        self._locked = False

    async def lock(self) -> None:
        if self._locked:
            return
        c = t.assignment_cursors.c
        stmt = select(c.queue).where(c.queue == "*").with_for_update()
        if (await self._conn.execute(stmt)).first() is None:
            await self._conn.execute(
                upsert(self._conn, t.assignment_cursors, {"queue": "*"}, ["queue"])
            )
            await self._conn.execute(stmt)
        self._locked = True

    async def cursor(self, queue: str) -> int | None:
        c = t.assignment_cursors.c
        return (await self._conn.execute(select(c.agent_id).where(c.queue == queue))).scalar()

    async def set_cursor(self, queue: str, agent_id: int, at: datetime) -> None:
        values = {"queue": queue, "agent_id": agent_id, "updated_at": at}
        await self._conn.execute(upsert(self._conn, t.assignment_cursors, values, ["queue"]))

    async def open_loads(
        self, agent_ids: Sequence[int], statuses: Sequence[str], exclude: Sequence[int] = ()
    ) -> dict[int, int]:
        """Active tickets per agent in the database, leaving out `exclude` (counted by caller)."""
        if not agent_ids:
            return {}
        c = t.tickets.c
        stmt = (
            select(c.assignee_id, func.count())
            .where(c.assignee_id.in_(list(agent_ids)), c.status.in_(list(statuses)))
            .group_by(c.assignee_id)
        )
        if exclude:
            stmt = stmt.where(c.id.not_in(list(exclude)))
        return {row[0]: row[1] for row in await self._conn.execute(stmt)}


class RatingRepository:
    """One row per surveyed or rated ticket."""

    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def get(self, ticket_id: int) -> Any:
        stmt = select(t.ratings).where(t.ratings.c.ticket_id == ticket_id)
        return (await self._conn.execute(stmt)).first()

    async def scores(self, ticket_ids: list[int]) -> dict[int, int]:
        """Ratings given, by ticket, for the cards of a batch (one query)."""
        if not ticket_ids:
            return {}
        c = t.ratings.c
        stmt = select(c.ticket_id, c.score).where(
            c.ticket_id.in_(list(dict.fromkeys(ticket_ids))), c.score.is_not(None)
        )
        return {r.ticket_id: r.score for r in await self._conn.execute(stmt)}

    async def last_survey(self, customer_id: int) -> datetime | None:
        c = t.ratings.c
        stmt = select(func.max(c.survey_sent_at)).where(c.customer_id == customer_id)
        return aware((await self._conn.execute(stmt)).scalar())

    async def survey_sent(self, ticket_id: int, customer_id: int, at: datetime) -> None:
        values = {"ticket_id": ticket_id, "customer_id": customer_id, "survey_sent_at": at}
        await self._conn.execute(upsert(self._conn, t.ratings, values, ["ticket_id"]))

    async def rate(
        self, ticket_id: int, customer_id: int, score: int, comment: str | None, at: datetime
    ) -> bool:
        """Record or change a rating; returns True when it changed an earlier one."""
        existing = await self.get(ticket_id)
        if existing is None:
            await self._conn.execute(
                insert(t.ratings).values(
                    ticket_id=ticket_id, customer_id=customer_id, score=score, comment=comment,
                    rated_at=at, changed_at=at,
                )
            )  # fmt: skip
            return False
        values: dict[str, Any] = {"score": score, "changed_at": at}
        if comment is not None:
            values["comment"] = comment
        if existing.rated_at is None:
            values["rated_at"] = at
        await self._conn.execute(
            update(t.ratings).where(t.ratings.c.ticket_id == ticket_id).values(**values)
        )
        return existing.score is not None
