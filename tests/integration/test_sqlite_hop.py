"""The one-hop SQLite cursor behaves like SQLAlchemy's own: rows, counts, ids and errors."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from storage.engine import create_engine
from storage.sqlite_hop import OneHopCursor


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
