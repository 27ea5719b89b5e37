"""Bulk inserts for the write-behind buffers (messages, history, outbox, tickets, customers).

Every inbound message ends in half a dozen rows, written with executemany at commit. On SQLite
SQLAlchemy's executemany compiles parameters row by row (`construct_params` per row), which
cost more than SQLite's own insert; here the INSERT text is compiled once per column set and
each row becomes a tuple through the columns' own bind processors (so the stored text is
exactly what SQLAlchemy writes), handed to the driver's executemany. PostgreSQL keeps
SQLAlchemy's path (asyncpg's executemany is already batched and typed).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import Table, insert
from sqlalchemy.ext.asyncio import AsyncConnection

Processor = Callable[[Any], Any] | None
_PLANS: dict[tuple[int, str, tuple[str, ...]], tuple[str, tuple[Processor, ...]] | None] = {}


async def insert_many(conn: AsyncConnection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """INSERT `rows` (dicts of column values) into `table` in as few round trips as possible."""
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for row in rows:  # executemany takes its columns from the first row: group by column set
        groups.setdefault(tuple(row), []).append(row)
    for keys, group in groups.items():
        plan = _plan(conn, table, keys) if conn.dialect.name == "sqlite" else None
        if plan is None:  # a column with a Python-side default is missing: let SQLAlchemy fill it
            await conn.execute(insert(table), group)
            continue
        sql, processors = plan
        converted = [(i, p) for i, p in enumerate(processors) if p is not None]
        params = []
        for row in group:
            values = list(row.values())
            for i, process in converted:
                values[i] = process(values[i])
            params.append(tuple(values))
        await conn.exec_driver_sql(sql, params)


def _plan(
    conn: AsyncConnection, table: Table, keys: tuple[str, ...]
) -> tuple[str, tuple[Processor, ...]] | None:
    """The INSERT text and per-column bind processors for one column set (cached)."""
    key = (id(table), conn.dialect.name, keys)
    if key in _PLANS:
        return _PLANS[key]
    missing_defaults = [c for c in table.columns if c.default is not None and c.name not in keys]
    if missing_defaults:
        _PLANS[key] = None
        return None
    dialect = conn.dialect
    columns = [table.c[k] for k in keys]
    processors = tuple(c.type._cached_bind_processor(dialect) for c in columns)
    names = ", ".join(dialect.identifier_preparer.quote(c.name) for c in columns)
    marks = ", ".join("?" for _ in columns)
    sql = (
        f"INSERT INTO {dialect.identifier_preparer.format_table(table)} ({names}) VALUES ({marks})"
    )
    _PLANS[key] = (sql, processors)
    return _PLANS[key]


_UPDATE_PLANS: dict[tuple[int, tuple[str, ...], tuple[str, ...]], tuple[str, tuple[Any, ...]]] = {}


async def update_many(
    conn: AsyncConnection,
    table: Table,
    set_keys: tuple[str, ...],
    where_keys: tuple[str, ...],
    rows: Sequence[tuple[Any, ...]],
) -> int:
    """SQLite: `UPDATE table SET set_keys… WHERE where_keys…` for each row, one executemany.

    Each row is a tuple of the SET values then the WHERE values, converted by the columns'
    bind processors as :func:`insert_many` does; returns how many rows were updated (SQLite
    sums executemany's row counts), so a caller can tell that every WHERE matched."""
    key = (id(table), set_keys, where_keys)
    plan = _UPDATE_PLANS.get(key)
    if plan is None:
        dialect = conn.dialect
        quote = dialect.identifier_preparer.quote
        columns = [table.c[k] for k in (*set_keys, *where_keys)]
        sets = ", ".join(f"{quote(k)} = ?" for k in set_keys)
        wheres = " AND ".join(f"{quote(k)} = ?" for k in where_keys)
        name = dialect.identifier_preparer.format_table(table)
        processors = tuple(c.type._cached_bind_processor(dialect) for c in columns)
        plan = _UPDATE_PLANS[key] = (f"UPDATE {name} SET {sets} WHERE {wheres}", processors)
    sql, processors = plan
    converted = [(i, p) for i, p in enumerate(processors) if p is not None]
    params = []
    for row in rows:
        values = list(row)
        for i, process in converted:
            values[i] = process(values[i])
        params.append(tuple(values))
    result = await conn.exec_driver_sql(sql, params)
    return int(result.rowcount)
