"""The report reader's own connections (storage/reports_db.py), on SQLite and PostgreSQL.

On SQLite the reader compiles each statement shape once and reuses it: the same shape with
other bound values, or an IN list of another length, must still read with its own values.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select, text

from bot.services.ports import FakeClock
from storage import reports_db
from storage import tables as t
from storage.reports_db import Reader
from tests.integration.test_core import cmd, make_app, msg


def _count(statuses: list[str], since: object, prefix: str) -> object:
    tickets = t.tickets.c
    return (
        select(func.count())
        .where(tickets.status.in_(statuses), tickets.created_at >= since)
        .where(tickets.subject.like(prefix + "%"))
    )


async def test_one_shape_read_with_each_calls_own_values(db_url: str) -> None:
    app = await make_app(db_url)
    clock = app.core.clock
    assert isinstance(clock, FakeClock)
    try:
        start = clock.now()
        first = await app.gateway.receive(msg("alice", "printer on fire", "m-1"))
        clock.advance(timedelta(hours=1))
        await app.gateway.receive(msg("carl", "printer out of ink", "m-2"))
        await app.gateway.receive(msg("dora", "scanner jams", "m-3"))
        assert (await app.gateway.execute(cmd("bob", f"claim {first.ref}"))).ok
        reader = Reader(app.engine)
        later = start + timedelta(minutes=30)

        async def count(statuses: list[str], since: object, prefix: str) -> int:
            return int((await reader.rows(_count(statuses, since, prefix)))[0][0])

        assert await count(["new"], start, "printer") == 1
        cached = len(reports_db._COMPILED)
        assert await count(["new", "open"], start, "printer") == 2  # a longer IN list
        assert await count(["open"], start, "printer") == 1
        assert await count(["new", "open"], later, "printer") == 1  # another timestamp
        assert await count(["new", "open", "closed"], start, "scanner") == 1
        assert await count(["closed"], start, "") == 0
        if not reader.pg:  # one compiled statement served every call
            assert len(reports_db._COMPILED) == cached
    finally:
        await app.stop()


async def test_a_session_reads_one_snapshot_and_closes_its_connections(db_url: str) -> None:
    """Inside `session` the reader keeps its SQLite connections open in a read transaction:
    a report's statements share a warm page cache and see the data as of their first read."""
    app = await make_app(db_url)
    try:
        await app.gateway.receive(msg("alice", "printer on fire", "m-1"))
        reader = Reader(app.engine)
        count = select(func.count()).select_from(t.tickets)

        async def tickets() -> int:
            return int((await reader.rows(count))[0][0])

        async with reader.session():
            assert await tickets() == 1
            await app.gateway.receive(msg("carl", "no ink", "m-2"))  # written meanwhile
            seen = await tickets()
            if not reader.pg:
                assert seen == 1  # the same connection, the same snapshot
                assert reader._idle is not None and len(reader._idle) == 1
            with pytest.raises(Exception, match=r"no such table|does not exist"):
                await reader.rows(select(func.count()).select_from(text("missing_table")))
        assert reader._idle is None  # closed with the session
        assert await tickets() == 2  # a fresh connection sees the new ticket
    finally:
        await app.stop()


async def test_report_connections_are_set_up_for_reading(db_url: str) -> None:
    """SQLite: read-only connections. PostgreSQL: custom plans and no parallel workers (a
    generic plan's workers made one report in three ~300 ms slower), no JIT, in-memory sorts."""
    app = await make_app(db_url)
    try:
        reader = Reader(app.engine)
        if reader.pg:
            names = ("plan_cache_mode", "max_parallel_workers_per_gather", "jit", "work_mem")
            stmt = select(*[func.current_setting(n) for n in names])
            assert (await reader.rows(stmt))[0] == ("force_custom_plan", "0", "off", "64MB")
        else:
            assert (await reader.rows(text("PRAGMA query_only")))[0] == (1,)
            assert (await reader.rows(text("PRAGMA cache_size")))[0] == (-32768,)
    finally:
        await app.stop()
