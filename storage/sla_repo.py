"""SLA policies changed with `/sla set`: one row per policy, in the settings-file shape."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from storage import tables as t


class SlaPolicyRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def list(self) -> list[tuple[str, int | None, dict[str, Any]]]:
        """(name, position, data) rows, in the order they were last written."""
        c = t.sla_policies.c
        rows = await self._conn.execute(
            select(c.name, c.position, c.data).order_by(c.updated_at, c.name)
        )
        return [(r.name, r.position, dict(r.data)) for r in rows]

    async def put(
        self, name: str, position: int | None, data: dict[str, Any], by: str, at: datetime
    ) -> None:
        c = t.sla_policies.c
        await self._conn.execute(delete(t.sla_policies).where(c.name == name))
        await self._conn.execute(
            insert(t.sla_policies).values(
                name=name, position=position, data=data, updated_by=by, updated_at=at
            )
        )
