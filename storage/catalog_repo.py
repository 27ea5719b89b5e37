"""Reference data that admins edit: queues and canned answers."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from storage import tables as t
from storage.catalog_cache import Catalog

_QUEUE_BY_NAME = select(t.queues).where(
    t.queues.c.name == bindparam("name"), t.queues.c.active.is_(True)
)


class QueueRepository:
    """Queues change rarely and are read on every new ticket: kept between units of work
    (storage/catalog_cache.py) and for the unit of work."""

    def __init__(self, conn: AsyncConnection, catalog: Catalog | None = None) -> None:
        self._conn = conn
        self._catalog = catalog or Catalog(conn, None)
        self._cache: dict[str, Any] = {}

    async def get(self, name: str) -> Any:
        if name not in self._cache:

            async def load() -> Any:
                return (await self._conn.execute(_QUEUE_BY_NAME, {"name": name})).first()

            self._cache[name] = await self._catalog.get(("queue", name), load)
        return self._cache[name]

    async def list(self) -> list[Any]:
        stmt = select(t.queues).where(t.queues.c.active.is_(True)).order_by(t.queues.c.name)
        return list((await self._conn.execute(stmt)).all())

    async def add(
        self,
        name: str,
        description: str | None = None,
        triage: dict[str, Any] | None = None,
        settings: dict[str, Any] | None = None,
    ) -> bool:
        self._catalog.mark_changed()
        self._cache.pop(name, None)
        existing = (
            await self._conn.execute(select(t.queues).where(t.queues.c.name == name))
        ).first()
        if existing:
            if existing.active and not triage and not settings:
                return False
            await self._conn.execute(
                update(t.queues)
                .where(t.queues.c.name == name)
                .values(
                    active=True,
                    triage=triage or existing.triage,
                    settings=settings or existing.settings,
                    description=description or existing.description,
                )
            )
            return not existing.active
        await self._conn.execute(
            insert(t.queues).values(
                name=name, description=description, triage=triage or {}, settings=settings or {}
            )
        )
        return True

    async def remove(self, name: str) -> bool:
        self._catalog.mark_changed()
        self._cache.pop(name, None)
        result = await self._conn.execute(
            update(t.queues)
            .where(t.queues.c.name == name, t.queues.c.active.is_(True))
            .values(active=False)
        )
        return bool(result.rowcount)


class CannedRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def get(self, name: str) -> str | None:
        stmt = select(t.canned_answers.c.body).where(t.canned_answers.c.name == name)
        return (await self._conn.execute(stmt)).scalar()

    async def list(self, prefix: str = "") -> list[tuple[str, str]]:
        stmt = select(t.canned_answers.c.name, t.canned_answers.c.body).order_by(
            t.canned_answers.c.name
        )
        if prefix:
            stmt = stmt.where(t.canned_answers.c.name.startswith(prefix))
        return [(r.name, r.body) for r in await self._conn.execute(stmt)]

    async def put(self, name: str, body: str, by: str, at: datetime) -> None:
        await self._conn.execute(delete(t.canned_answers).where(t.canned_answers.c.name == name))
        await self._conn.execute(
            insert(t.canned_answers).values(name=name, body=body, created_by=by, created_at=at)
        )

    async def remove(self, name: str) -> bool:
        result = await self._conn.execute(
            delete(t.canned_answers).where(t.canned_answers.c.name == name)
        )
        return bool(result.rowcount)
