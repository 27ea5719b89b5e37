"""Queries served by partial indexes can use them, on SQLite and PostgreSQL: the outbox by ticket
and by platform id (migration 0009; a queued row is in neither index, and the lookups still find
what they should), the scheduler's timers (migration 0010), "breaching soon" (migration 0011)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.domain.model import Ticket
from storage import due_query, outbox_repo, timers_repo
from storage import tables as t
from storage.engine import create_engine
from storage.migrate import migrate
from storage.rows import ticket_values

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


async def _plan(conn: AsyncConnection, stmt: object) -> str:
    """The plan of ``stmt`` with its values bound as parameters, as the application runs it
    (a partial index is only usable if the query implies its condition for any value)."""
    pg = conn.dialect.name == "postgresql"
    dialect = postgresql.dialect(paramstyle="named") if pg else sqlite.dialect(paramstyle="named")
    compiled = stmt.compile(  # type: ignore[attr-defined]
        dialect=dialect, compile_kwargs={"render_postcompile": True}
    )
    sql, params = str(compiled), compiled.params
    if conn.dialect.name == "sqlite":
        rows = (await conn.execute(text("EXPLAIN QUERY PLAN " + sql), params)).all()
    else:
        await conn.execute(text("SET LOCAL enable_seqscan = off"))
        await conn.execute(text("SET LOCAL plan_cache_mode = force_generic_plan"))
        rows = (await conn.execute(text("EXPLAIN " + sql), params)).all()
    return "\n".join(str(r[-1]) for r in rows)


async def test_failed_and_sent_lookups_use_the_partial_indexes(db_url: str) -> None:
    engine = create_engine(db_url)
    await migrate(engine)
    try:
        async with engine.connect() as conn:
            await conn.begin()
            await conn.execute(t.customers.insert().values(id=1, name="c", created_at=NOW))
            ticket = Ticket(1, "T-1", "s", 1, "console:c1", "console", NOW)
            await conn.execute(t.tickets.insert().values(id=1, version=1, **ticket_values(ticket)))
            repo = outbox_repo.OutboxRepository(conn)
            for status, external in (("queued", None), ("failed", None), ("sent", "<m@x>")):
                repo.add(
                    ticket_id=1,
                    platform="email",
                    audience="customer",
                    kind="reply",
                    conversation_key="email:c1",
                    text="hi",
                    payload=None,
                    status=status,
                    attempts=0,
                    next_attempt_at=NOW,
                    created_at=NOW,
                    external_id=external,
                    recipient=None,
                    edit_key=None,
                )
            await repo.flush()
            assert [r.status for r in await repo.for_ticket(1)] == ["failed"]
            assert await repo.failed_counts([1]) == {1: 1}
            assert [r.status for r in await repo.by_external("email", ["<m@x>"])] == ["sent"]
            # the one other index a failed-row lookup could use (status first); dropped inside
            # this transaction, which is rolled back, so the plan shows whether ours is usable
            await conn.execute(text("DROP INDEX ix_outbox_status_next"))
            failed = outbox_repo._FAILED_COUNTS.params(tids=[1, 2])
            assert "ix_outbox_failed" in await _plan(conn, failed)
            sent = (
                select(t.outbox)
                .where(t.outbox.c.platform == "email")
                .where(t.outbox.c.external_id.in_(["<m@x>"]))
            )
            assert "ix_outbox_platform_external" in await _plan(conn, sent)
            await conn.rollback()
    finally:
        await engine.dispose()


async def test_the_scheduler_queries_use_the_partial_timer_indexes(db_url: str) -> None:
    """The due and next-due queries read each timer through its (status, column) index, which
    holds only tickets whose timer is set (migration 0010), and the SLA alarms through the
    key of `sla_alarms`, which starts with the time (migration 0013)."""
    engine = create_engine(db_url)
    await migrate(engine)
    try:
        async with engine.connect() as conn:
            await conn.begin()
            if conn.dialect.name == "sqlite":
                query = "SELECT name, sql FROM sqlite_master WHERE tbl_name = 'tickets'"
            else:
                query = "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'tickets'"
            defs = dict((await conn.execute(text(query))).tuples().all())
            for name in ("claim", "remind", "autoclose"):
                assert "IS NOT NULL" in defs[f"ix_tickets_status_{name}"]
            gone = {"ix_tickets_status_warn", "ix_tickets_status_frd", "ix_tickets_status_slanext"}
            assert not gone & set(defs)
            due = timers_repo._DUE.params(now=NOW)
            sqlite = conn.dialect.name == "sqlite"
            for stmt, alarms in (
                # the due alarms: one range at the start of the key
                (due, "SEARCH sla_alarms USING PRIMARY KEY (at<?)" if sqlite else "pk_sla_alarms"),
                # the next one: the first entry of the key (SQLite walks the table in key order)
                (timers_repo._NEXT, "SCAN sla_alarms" if sqlite else "pk_sla_alarms"),
            ):
                plan = await _plan(conn, stmt)
                for name in ("claim", "remind", "autoclose"):
                    assert f"ix_tickets_status_{name}" in plan, plan
                assert alarms in plan, plan
                lines = plan.splitlines()
                after = lines[lines.index(alarms) + 1] if sqlite else ""
                assert "TEMP B-TREE" not in after and "Seq Scan on sla_alarms" not in plan
            await conn.rollback()
    finally:
        await engine.dispose()


async def test_breaching_soon_reads_one_range_of_the_sla_due_index(db_url: str) -> None:
    """`list due:1h` and App Home: one range of the partial `sla_due_at` index, queue filter or
    not (migration 0011), instead of a scan of every ticket."""
    engine = create_engine(db_url)
    await migrate(engine)
    try:
        async with engine.connect() as conn:
            await conn.begin()
            captured: list[object] = []

            class Spy:
                dialect = conn.dialect

                async def execute(self, stmt: object) -> object:
                    captured.append(stmt)
                    return await conn.execute(stmt)  # type: ignore[arg-type]

            for queues in ((), ("billing",)):
                assert await due_query.due_ticket_ids(Spy(), NOW, queues) == []  # type: ignore[arg-type]
            # on empty tables the planner may as well filter the queue index; dropped inside
            # this transaction (rolled back), the plan shows whether ours is usable
            await conn.execute(text("DROP INDEX ix_tickets_queue_status"))
            for stmt in captured:
                plan = await _plan(conn, stmt)
                assert "ix_tickets_sla_due" in plan, plan
            await conn.rollback()
    finally:
        await engine.dispose()
