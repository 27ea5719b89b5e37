"""Read-only connections for report queries, apart from any unit of work's transaction.

A report runs a dozen aggregates over a year of data; on SQLite a unit of work begins with
BEGIN IMMEDIATE (storage/engine.py), so running them there would hold the write lock, and
ingest would wait, for the whole report. Reports therefore read on their own connections:
plain read-only aiosqlite connections on SQLite (WAL readers never block writers), pooled
connections on PostgreSQL. Several run at once (`PARALLEL`), which is where a 2-core machine
gets its second core.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import aiosqlite
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

PARALLEL = 3
FETCH = 5000


class Reader:
    """Runs SQLAlchemy Core selects on short-lived read connections; rows are plain tuples.

    On SQLite, values come back as stored: timestamps are strings (see `as_datetime`).
    """

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.pg = engine.dialect.name == "postgresql"
        self.path = engine.url.database
        if not self.pg and (not self.path or self.path == ":memory:"):
            raise RuntimeError("reports need a database file (not an in-memory SQLite)")
        self._slots = asyncio.Semaphore(PARALLEL)

    async def rows(self, stmt: Any) -> list[tuple[Any, ...]]:
        async with self._slots:
            if self.pg:
                async with self.engine.connect() as conn:
                    await conn.execute(text("SET LOCAL work_mem = '64MB'"))  # in-memory sorts
                    # JIT compiling a report query took longer than running it (2 s for the
                    # tag counts on 1M tickets, measured with EXPLAIN ANALYZE)
                    await conn.execute(text("SET LOCAL jit = off"))
                    return [tuple(r) for r in (await conn.execute(stmt)).all()]
            sql, params = self._sqlite(stmt)
            async with self._sqlite_connection() as db, db.execute(sql, params) as cursor:
                return list(await cursor.fetchall())  # type: ignore[arg-type]  # tuples

    async def stream(self, stmt: Any) -> AsyncIterator[tuple[Any, ...]]:
        """Rows in batches, for exports too large to hold twice."""
        async with self._slots:
            if self.pg:
                async with self.engine.connect() as conn:
                    result = await conn.stream(stmt)
                    async for pg_row in result:
                        yield tuple(pg_row)
                return
            sql, params = self._sqlite(stmt)
            async with self._sqlite_connection() as db, db.execute(sql, params) as cursor:
                while batch := await cursor.fetchmany(FETCH):
                    for row in batch:
                        yield tuple(row)

    @asynccontextmanager
    async def _sqlite_connection(self) -> AsyncIterator[aiosqlite.Connection]:
        db = await aiosqlite.connect(self.path or "", timeout=30)
        try:
            await db.execute("PRAGMA query_only = 1")
            await db.execute("PRAGMA cache_size = -32768")  # 32 MB: sorts stay in memory
            yield db
        finally:
            await db.close()

    def _sqlite(self, stmt: Any) -> tuple[str, Sequence[Any]]:
        compiled = stmt.compile(
            dialect=self.engine.dialect, compile_kwargs={"render_postcompile": True}
        )
        values = compiled.construct_params()
        order = compiled.positiontup or []
        return str(compiled), [_sqlite_value(values[name]) for name in order]


def _sqlite_value(value: Any) -> Any:
    """Bound values as SQLAlchemy stores them on SQLite (timestamps: UTC text)."""
    if isinstance(value, datetime):
        utc = value.astimezone(UTC) if value.tzinfo else value
        return utc.strftime("%Y-%m-%d %H:%M:%S.%f")
    return value


def as_datetime(value: Any) -> datetime | None:
    """A timestamp read by `Reader` (text on SQLite), as an aware UTC datetime."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=UTC)
