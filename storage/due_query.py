"""Which running tickets have an SLA due time before a moment: App Home's "breaching soon"."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.domain.status import Status
from storage import tables as t

_RUNNING = [Status.NEW.value, Status.OPEN.value]
_DUE_COLUMNS = (
    t.tickets.c.first_response_due,
    t.tickets.c.next_response_due,
    t.tickets.c.resolution_due,
)


async def due_ticket_ids(
    conn: AsyncConnection, until: datetime, queues: Sequence[str] = (), limit: int = 20
) -> list[int]:
    """Ids of running tickets (clock not paused) with a first response, next response or
    resolution due time at or before `until`, breached ones included; read-only.

    One statement per due column, each served by its (status, due) index and limited, so the
    answer stays fast however many tickets there are; callers sort by the earliest due time."""
    ids: list[int] = []
    for column in _DUE_COLUMNS:
        stmt = (
            select(t.tickets.c.id)
            .where(t.tickets.c.status.in_(_RUNNING), column <= until)
            .where(t.tickets.c.paused_at.is_(None))
        )
        if queues:
            stmt = stmt.where(t.tickets.c.queue.in_(list(queues)))
        found = await conn.execute(stmt.order_by(column).limit(limit))
        ids.extend(i for i in found.scalars() if i not in ids)
    return ids
