"""Primary keys chosen before insert, so new rows can be written in bulk at commit.

SQLite: deskbot takes the write lock at BEGIN (BEGIN IMMEDIATE), so no one else can insert
until we commit; one read of `sqlite_sequence` per unit of work (every table's row at once:
tickets and customers both need one in a group commit; it comes with BEGIN when the unit has
written nothing before its first id) and counting up in memory is safe and leaves no gaps
(a rollback discards the rows and the counter together).
PostgreSQL: `nextval` on the table's own sequence, like a plain insert would.
"""

from __future__ import annotations

from weakref import WeakKeyDictionary

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from storage import sqlite_hop

SEQUENCES_SQL = "SELECT name, seq FROM sqlite_sequence"

# per unit of work's connection: sqlite_sequence as read once by the first allocator
_SEQUENCES: WeakKeyDictionary[AsyncConnection, dict[str, int]] = WeakKeyDictionary()


class IdAllocator:
    """Hands out ids for one table within one transaction."""

    def __init__(self, conn: AsyncConnection, table: str) -> None:
        self._conn = conn
        self._table = table
        self._next: int | None = None
        self._sqlite = conn.dialect.name == "sqlite"

    async def next(self) -> int:
        if not self._sqlite:
            sql = text(f"SELECT nextval(pg_get_serial_sequence('{self._table}', 'id'))")
            return int((await self._conn.execute(sql)).scalar_one())
        if self._next is None:
            # AUTOINCREMENT keeps sqlite_sequence at or above max(id), also for explicit ids
            seqs = _SEQUENCES.get(self._conn)
            if seqs is None:
                # usually read with BEGIN, in the same thread hop (storage/sqlite_hop.py)
                rows = sqlite_hop.begin_read(self._conn, "sqlite_sequence")
                if rows is None:
                    rows = list(await self._conn.execute(text(SEQUENCES_SQL)))
                seqs = _SEQUENCES[self._conn] = {str(n): int(v or 0) for n, v in rows}
            self._next = seqs.get(self._table, 0) + 1
        value = self._next
        self._next += 1
        return value
