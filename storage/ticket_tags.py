"""The ticket_tags rows (one per tag of a ticket), written with the ticket's own row.

The reports count tickets per tag and period; reading each ticket's JSON `tags` for that took
most of a second on a million tickets. This table holds the same tags as rows, with the
ticket's creation time, so each count is one range of its (tag, created_at) index. The ticket
repository calls these when it inserts tickets and when a ticket's tags change; migration 0008
filled it for the tickets written before.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncConnection

from storage import tables as tb
from storage.bulk import insert_many

Tagged = tuple[int, Sequence[str], datetime]  # ticket id, its tags, its creation time


async def insert_tags(conn: AsyncConnection, tickets: Sequence[Tagged]) -> None:
    """Rows for new tickets (most have no tags yet: then nothing is written)."""
    rows = [
        {"ticket_id": tid, "tag": tag, "created_at": created}
        for tid, tags, created in tickets
        for tag in dict.fromkeys(tags)  # a tag once per ticket, as the domain keeps them
    ]
    if rows:
        await insert_many(conn, tb.ticket_tags, rows)


async def replace_tags(conn: AsyncConnection, tickets: Sequence[Tagged]) -> None:
    """The rows of tickets whose tags changed: the old ones go, the current ones are written."""
    if not tickets:
        return
    T = tb.ticket_tags
    await conn.execute(delete(T).where(T.c.ticket_id.in_([tid for tid, _, _ in tickets])))
    await insert_tags(conn, tickets)
