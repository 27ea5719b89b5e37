"""The one-hop SQLite cursor behaves like SQLAlchemy's own: rows, counts, ids and errors; a
transaction's BEGIN rides with its first statement and still takes the write lock; bulk
INSERTs ride with the next statement (the COMMIT)."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Column, Integer, MetaData, Table, Text, text
from sqlalchemy.exc import IntegrityError

from storage.bulk import insert_many
from storage.engine import create_engine
from storage.sqlite_hop import OneHopCursor, commit_writes


async def test_rows_rowcount_lastrowid_and_errors(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'hop.db'}")
    try:
        async with engine.begin() as conn:
            raw = await conn.get_raw_connection()
            assert isinstance(raw.dbapi_connection.cursor(), OneHopCursor)
            await conn.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT UNIQUE)"))
            one = await conn.execute(text("INSERT INTO t (v) VALUES ('a')"))
            assert one.lastrowid == 1 and one.rowcount == 1
            many = await conn.execute(
                text("INSERT INTO t (v) VALUES (:v)"), [{"v": "b"}, {"v": "c"}]
            )
            assert many.rowcount == 2
            changed = await conn.execute(text("UPDATE t SET v = v || '!' WHERE id > 1"))
            assert changed.rowcount == 2
            rows = (await conn.execute(text("SELECT id, v FROM t ORDER BY id"))).all()
            assert [tuple(r) for r in rows] == [(1, "a"), (2, "b!"), (3, "c!")]
            assert (await conn.execute(text("SELECT v FROM t WHERE id = 9"))).first() is None
            with pytest.raises(IntegrityError):
                await conn.execute(text("INSERT INTO t (v) VALUES ('a')"))
    finally:
        await engine.dispose()


async def _hops(conn: Any) -> list[Any]:
    """Record the functions this connection sends to aiosqlite's thread from now on."""
    aio = (await conn.get_raw_connection()).driver_connection
    sent: list[Any] = []
    real = aio._execute

    async def counting(fn: Any, *args: Any, **kw: Any) -> Any:
        sent.append(args[0] if args and isinstance(args[0], str) else fn)
        return await real(fn, *args, **kw)

    aio._execute = counting
    return sent


async def test_begin_rides_with_the_first_statement_and_still_takes_the_write_lock(
    tmp_path: Path,
) -> None:
    """BEGIN IMMEDIATE goes in the hop of the transaction's first statement: one hop fewer per
    unit of work, and the write lock is still held from that statement until commit."""
    path = tmp_path / "begin.db"
    engine = create_engine(f"sqlite+aiosqlite:///{path}")
    try:
        async with engine.begin() as conn:
            await conn.execute(text("CREATE TABLE t (v TEXT)"))
        async with engine.connect() as conn:
            sent = await _hops(conn)
            await conn.begin()
            await conn.execute(text("SELECT count(*) FROM t"))  # a read first, as a unit does
            assert len(sent) == 1  # BEGIN and the SELECT together
            other = sqlite3.connect(path, timeout=0)
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                other.execute("BEGIN IMMEDIATE")  # the first statement took the write lock
            await conn.execute(text("INSERT INTO t VALUES ('a')"))
            await conn.commit()
            other.execute("BEGIN IMMEDIATE")  # free again after commit
            other.rollback()
            other.close()
            sent.clear()
            await conn.begin()
            await conn.rollback()  # nothing ran: nothing to send
            assert sent == []
        async with engine.connect() as conn:
            assert (await conn.execute(text("SELECT v FROM t"))).scalar_one() == "a"
            raw = (await conn.get_raw_connection()).driver_connection
            assert raw.in_transaction  # the autobegun transaction of this SELECT
        async with engine.connect() as conn:  # given back to the pool with nothing open
            raw = (await conn.get_raw_connection()).driver_connection
            assert not raw.in_transaction
    finally:
        await engine.dispose()


async def test_bulk_inserts_ride_with_the_commit_and_a_failure_lands_nothing(
    tmp_path: Path,
) -> None:
    """While a unit commits, the write-behind INSERTs (storage/bulk.py) go in the next hop,
    usually the COMMIT's: a read in between sees them, a failing row fails that hop with
    SQLAlchemy's error and the transaction lands nothing, and a rollback drops what was never
    sent. Outside a commit they are sent at once."""
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'defer.db'}")
    table = Table("t", MetaData(), Column("id", Integer, primary_key=True), Column("v", Text))
    try:
        async with engine.begin() as conn:
            await conn.run_sync(table.metadata.create_all)
        async with engine.connect() as conn:
            sent = await _hops(conn)
            await conn.begin()
            await conn.execute(text("SELECT 1"))
            await insert_many(conn, table, [{"id": 9, "v": "z"}])
            assert len(sent) == 2  # not committing: sent at once
            await conn.execute(text("DELETE FROM t"))
            sent.clear()
            raw = (await conn.get_raw_connection()).driver_connection
            with commit_writes(raw):  # as SqlUnitOfWork.commit does
                await conn.execute(text("SELECT 1"))
                await insert_many(conn, table, [{"id": 1, "v": "a"}, {"id": 2, "v": "b"}])
                await insert_many(conn, table, [{"id": 3, "v": "c"}])
                assert len(sent) == 1  # nothing sent yet
                assert (await conn.execute(text("SELECT count(*) FROM t"))).scalar_one() == 3
                await insert_many(conn, table, [{"id": 4, "v": "d"}])
                await conn.commit()
                assert len(sent) == 3  # the SELECT, then the INSERT and the COMMIT in one hop
                await conn.begin()
                await conn.execute(text("SELECT 1"))
                await insert_many(conn, table, [{"id": 5, "v": "e"}, {"id": 1, "v": "again"}])
                with pytest.raises(IntegrityError):
                    await conn.commit()
                await conn.rollback()
                await conn.begin()
                await conn.execute(text("SELECT 1"))
                await insert_many(conn, table, [{"id": 6, "v": "f"}])
                sent.clear()
                await conn.rollback()  # only the BEGIN'd SELECT to undo: the INSERT never left
                assert len(sent) == 1
        async with engine.connect() as conn:
            rows = await conn.execute(text("SELECT id FROM t ORDER BY id"))
            assert list(rows.scalars()) == [1, 2, 3, 4]  # not 5: its transaction failed whole
    finally:
        await engine.dispose()


async def test_reads_ride_with_begin_and_are_forgotten_once_the_transaction_writes(
    tmp_path: Path,
) -> None:
    """`read_at_begin` SELECTs run in BEGIN's hop; `begin_read` answers from them only while
    the transaction has written nothing (a write may change what they read), and not at all
    once it ends. Ids chosen before insert (storage/ids.py) stay right after a write."""
    from storage.ids import IdAllocator
    from storage.sqlite_hop import begin_read

    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'reads.db'}")
    try:
        async with engine.begin() as conn:
            await conn.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY AUTOINCREMENT)"))
            await conn.execute(text("INSERT INTO t DEFAULT VALUES"))
        async with engine.connect() as conn:
            sent = await _hops(conn)
            await conn.begin()
            assert begin_read(conn, "sqlite_sequence") is None  # BEGIN not sent yet
            await conn.execute(text("SELECT 1"))
            assert len(sent) == 1
            assert [tuple(r) for r in begin_read(conn, "sqlite_sequence") or []] == [("t", 1)]
            assert begin_read(conn, "catalog_version") is None  # no such table here: skipped
            assert await IdAllocator(conn, "t").next() == 2
            assert len(sent) == 1  # the id came from what BEGIN's hop read
            await conn.rollback()
            assert begin_read(conn, "sqlite_sequence") is None
        async with engine.connect() as conn:  # a unit that writes before its first id
            await conn.begin()
            await conn.execute(text("SELECT 1"))
            await conn.execute(text("INSERT INTO t DEFAULT VALUES"))  # takes id 2 itself
            assert begin_read(conn, "sqlite_sequence") is None
            assert await IdAllocator(conn, "t").next() == 3  # read now: not a stale 2
    finally:
        await engine.dispose()
