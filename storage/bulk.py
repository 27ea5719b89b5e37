"""Bulk writes for the write-behind buffers (messages, history, outbox, tickets, customers).

Every inbound message ends in half a dozen rows, written at commit. On SQLite SQLAlchemy's
executemany compiles parameters row by row (`construct_params` per row), which cost more than
SQLite's own insert; here the statement is compiled once per column set and each row becomes
a tuple through the columns' own bind processors (so the stored text is exactly what
SQLAlchemy writes), handed to the driver's executemany; while a unit of work commits, sent
with the transaction's next statement (storage/sqlite_hop.py `defer_many`: usually the
COMMIT). On PostgreSQL asyncpg's executemany
still runs the statement once per row on the server: from UNNEST_FROM rows on, the rows go as
one array per column in a single `INSERT … SELECT FROM unnest(…)` (`UPDATE … FROM unnest(…)`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import JSON, Table, insert
from sqlalchemy.ext.asyncio import AsyncConnection

from storage import sqlite_hop

Processor = Callable[[Any], Any] | None
_PLANS: dict[tuple[int, str, tuple[str, ...]], tuple[str, tuple[Processor, ...]] | None] = {}


async def insert_many(conn: AsyncConnection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """INSERT `rows` (dicts of column values) into `table` in as few round trips as possible."""
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for row in rows:  # executemany takes its columns from the first row: group by column set
        groups.setdefault(tuple(row), []).append(row)
    pg = conn.dialect.name == "postgresql"
    for keys, group in groups.items():
        processors = _pg_processors(conn, table, keys) if pg and len(group) >= UNNEST_FROM else None
        if processors is not None:
            await _insert_unnest(conn, table, keys, processors, group)
            continue
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
        sync = conn.sync_connection
        # nobody reads an INSERT's result here: at commit it rides in the next hop
        if not (
            sync is not None
            and sync.in_transaction()
            and sqlite_hop.defer_many(sync.connection.driver_connection, sql, params)
        ):
            await conn.exec_driver_sql(sql, params)


UNNEST_FROM = 8  # rows from which one INSERT … SELECT FROM unnest(arrays) beats executemany
_PG_PLANS: dict[tuple[int, tuple[str, ...], tuple[bool, ...]], str] = {}
_PG_PROCESSORS: dict[tuple[int, tuple[str, ...]], tuple[Processor, ...] | None] = {}


def _pg_processors(
    conn: AsyncConnection, table: Table, keys: tuple[str, ...]
) -> tuple[Processor, ...] | None:
    """The columns' bind processors, or None where a missing column has a Python default
    (SQLAlchemy must fill it in: the caller falls back to a plain INSERT)."""
    key = (id(table), keys)
    if key not in _PG_PROCESSORS:
        if any(c.default is not None and c.name not in keys for c in table.columns):
            _PG_PROCESSORS[key] = None
        else:
            _PG_PROCESSORS[key] = tuple(
                table.c[k].type._cached_bind_processor(conn.dialect) for k in keys
            )
    return _PG_PROCESSORS[key]


def _pg_sql(
    conn: AsyncConnection, table: Table, keys: tuple[str, ...], same: tuple[bool, ...]
) -> str:
    """PostgreSQL: `INSERT INTO t (cols) SELECT … FROM unnest($1::type[], …)`: one array per
    column whose value differs between rows, one plain parameter for a column every row shares
    (status, timestamps, kind: an SLA sweep's 1,000 outbox rows share 7 of their 11 columns,
    and sending them once took the INSERT from 26 to 20 ms). asyncpg's executemany would run
    the INSERT once per row on the server (102 ms for those rows, against 51 ms as one
    statement when this was written). JSON columns travel as text and are cast."""
    key = (id(table), keys, same)
    if key in _PG_PLANS:
        return _PG_PLANS[key]
    dialect = conn.dialect
    quote = dialect.identifier_preparer.quote
    arrays, picks, aliases = [], [], []
    for i, name in enumerate(keys, start=1):
        column = table.c[name]
        json = isinstance(column.type, JSON)
        sql_type = "TEXT" if json else column.type.compile(dialect=dialect)
        if same[i - 1]:
            value = f"${i}::{sql_type}"
        else:
            arrays.append(f"${i}::{sql_type}[]")
            aliases.append(f"c{i}")
            value = f"u.c{i}"
        picks.append(f"{value}::JSON" if json else value)
    names = ", ".join(quote(k) for k in keys)
    _PG_PLANS[key] = (
        f"INSERT INTO {dialect.identifier_preparer.format_table(table)} ({names}) "
        f"SELECT {', '.join(picks)} FROM unnest({', '.join(arrays)}) AS u({', '.join(aliases)})"
    )
    return _PG_PLANS[key]


async def _insert_unnest(
    conn: AsyncConnection,
    table: Table,
    keys: tuple[str, ...],
    processors: tuple[Processor, ...],
    group: Sequence[dict[str, Any]],
) -> None:
    arrays: list[list[Any]] = [[] for _ in keys]
    for row in group:
        for i, value in enumerate(row.values()):
            arrays[i].append(value)
    for i, process in enumerate(processors):
        if process is not None:
            arrays[i] = [process(v) for v in arrays[i]]
    n = len(group)
    same = tuple(a.count(a[0]) == n for a in arrays)
    if all(same):  # unnest needs one array to count the rows by
        same = (False, *same[1:])
    params = tuple(a[0] if s else a for a, s in zip(arrays, same, strict=True))
    await conn.exec_driver_sql(_pg_sql(conn, table, keys, same), params)


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


_UPDATE_PLANS: dict[tuple[Any, ...], tuple[str, tuple[Processor, ...]]] = {}


async def update_many(
    conn: AsyncConnection,
    table: Table,
    set_keys: tuple[str, ...],
    where_keys: tuple[str, ...],
    rows: Sequence[tuple[Any, ...]],
) -> int:
    """`UPDATE table SET set_keys… WHERE where_keys…` for each row, in one round trip.

    Each row is a tuple of the SET values then the WHERE values, converted by the columns'
    bind processors as :func:`insert_many` does. SQLite: one executemany. PostgreSQL: one
    `UPDATE … FROM unnest(arrays)` (executemany ran the UPDATE once per row on the server).
    Returns how many rows were updated, so a caller can tell that every WHERE matched."""
    pg = conn.dialect.name == "postgresql"
    key = (id(table), set_keys, where_keys, pg)
    plan = _UPDATE_PLANS.get(key)
    if plan is None:
        plan = _UPDATE_PLANS[key] = _update_plan(conn, table, set_keys, where_keys, pg)
    sql, processors = plan
    converted = [(i, p) for i, p in enumerate(processors) if p is not None]
    params = []
    for row in rows:
        values = list(row)
        for i, process in converted:
            values[i] = process(values[i])
        params.append(tuple(values))
    if pg:
        result = await conn.exec_driver_sql(sql, tuple(map(list, zip(*params, strict=True))))
    else:
        result = await conn.exec_driver_sql(sql, params)
    return int(result.rowcount)


def _update_plan(
    conn: AsyncConnection,
    table: Table,
    set_keys: tuple[str, ...],
    where_keys: tuple[str, ...],
    pg: bool,
) -> tuple[str, tuple[Processor, ...]]:
    dialect = conn.dialect
    quote = dialect.identifier_preparer.quote
    name = dialect.identifier_preparer.format_table(table)
    columns = [table.c[k] for k in (*set_keys, *where_keys)]
    processors = tuple(c.type._cached_bind_processor(dialect) for c in columns)
    if not pg:
        sets = ", ".join(f"{quote(k)} = ?" for k in set_keys)
        wheres = " AND ".join(f"{quote(k)} = ?" for k in where_keys)
        return f"UPDATE {name} SET {sets} WHERE {wheres}", processors
    arrays, values = [], []
    for i, c in enumerate(columns, start=1):
        json = isinstance(c.type, JSON)
        arrays.append(f"${i}::{'TEXT' if json else c.type.compile(dialect=dialect)}[]")
        values.append(f"u.c{i}::JSON" if json else f"u.c{i}")
    n = len(set_keys)
    sets = ", ".join(f"{quote(k)} = {v}" for k, v in zip(set_keys, values, strict=False))
    wheres = " AND ".join(
        f"{name}.{quote(k)} = {v}" for k, v in zip(where_keys, values[n:], strict=True)
    )
    aliases = ", ".join(f"c{i}" for i in range(1, len(columns) + 1))
    return (
        f"UPDATE {name} SET {sets} FROM unnest({', '.join(arrays)}) AS u({aliases}) WHERE {wheres}",
        processors,
    )
