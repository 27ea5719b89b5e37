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
from sqlalchemy.util import LRUCache

PARALLEL = 3
FETCH = 5000
_COMPILED: Any = LRUCache(256)  # statement cache key -> compiled SQLite statement
# For one report transaction on PostgreSQL: sorts stay in memory; no JIT (compiling a report
# query took longer than running it: 2 s for the tag counts on 1M tickets, EXPLAIN ANALYZE);
# a plan for the values at hand, not the generic plan asyncpg's prepared statements get after
# five runs, and no parallel workers: the reader already runs PARALLEL statements on two
# cores, and the generic plans' workers made one run in three 300 ms slower (backlog by agent:
# 13 → 350 ms while waiting for workers)
_PG_SETTINGS = text(
    "SELECT set_config('work_mem', '64MB', true), set_config('jit', 'off', true),"
    " set_config('plan_cache_mode', 'force_custom_plan', true),"
    " set_config('max_parallel_workers_per_gather', '0', true)"
)


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
        self._idle: list[aiosqlite.Connection] | None = None  # kept open inside `session`

    @asynccontextmanager
    async def session(self) -> AsyncIterator[None]:
        """Keep SQLite read connections open, each in one read transaction, until the end.

        A report runs ~30 statements over much the same pages; a fresh connection starts
        with an empty page cache and read those pages again (~25 % of the report's SQLite
        CPU, measured). Inside one read transaction a connection's cache stays valid even
        while others write (WAL), and its statements see one snapshot."""
        if self.pg or self._idle is not None:
            yield
            return
        self._idle = []
        try:
            yield
        finally:
            idle, self._idle = self._idle, None
            for db in idle:
                await db.close()  # ends the read transaction

    async def rows(self, stmt: Any) -> list[tuple[Any, ...]]:
        async with self._slots:
            if self.pg:
                async with self.engine.connect() as conn:
                    await conn.execute(_PG_SETTINGS)
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
        pool = self._idle
        db = pool.pop() if pool else await self._open(keep=pool is not None)
        try:
            yield db
        except BaseException:
            await db.close()
            raise
        if self._idle is not None and pool is self._idle:
            self._idle.append(db)
        else:
            await db.close()

    async def _open(self, keep: bool) -> aiosqlite.Connection:
        db = await aiosqlite.connect(self.path or "", timeout=30)
        await db.execute("PRAGMA query_only = 1")
        await db.execute("PRAGMA cache_size = -32768")  # 32 MB: sorts stay in memory
        if keep:
            await db.execute("BEGIN")  # deferred: the snapshot is taken by the first read
        return db

    def _sqlite(self, stmt: Any) -> tuple[str, Sequence[Any]]:
        """The statement's SQL and positional values, compiled once per statement shape.

        A report's statements have the same shape every time it runs with the same options
        (only bound values differ), and compiling them was ~80 ms of a report's Python time;
        the cache is keyed like SQLAlchemy's own execution cache (the PostgreSQL path goes
        through it), by the statement's cache key, which leaves bound values out."""
        key = stmt._generate_cache_key()
        if key is None:  # an element that cannot be cached: compile as it is
            compiled = stmt.compile(dialect=self.engine.dialect)
            params = compiled.construct_params(escape_names=False)
        else:
            compiled = _COMPILED.get(key.key)  # the structure; bound values are key.bindparams
            if compiled is None:
                compiled = stmt.compile(dialect=self.engine.dialect, cache_key=key)
                _COMPILED[key.key] = compiled
            params = compiled.construct_params(
                extracted_parameters=key.bindparams, escape_names=False
            )
        # expanding IN parameters become one placeholder per value, per call; this is what
        # SQLAlchemy's execution context does (engine/default.py) with the same names
        expanded = compiled._process_parameters_for_postcompile(params)
        values, order = expanded.parameters, expanded.positiontup or []
        return expanded.statement, [_sqlite_value(values[name]) for name in order]


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
