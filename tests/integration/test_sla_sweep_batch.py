"""The scheduler fires due tickets in batches (one unit of work per batch); a batch that fails
falls back to smaller transactions, so every due ticket still fires, once."""

from __future__ import annotations

import gc
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bot.bootstrap import App, build_app
from bot.config import Settings
from bot.domain import commands as c
from bot.messages import ConversationRef, Identity, InboundMessage
from bot.services.ports import FakeClock
from storage import tables as t
from storage import timers_repo

CONFIG = """
[[sla.policies]]
name = "tight"
first_response = "10m"
"""
TICKETS = 12


async def opened_app(db_url: str, tmp_path: Path) -> tuple[App, FakeClock]:
    path = tmp_path / "deskbot.toml"
    path.write_text(CONFIG, encoding="utf-8")
    settings = Settings(  # type: ignore[call-arg]
        database_url=db_url, _env_file=None, config=path, claim_timeout="0s"
    )
    clock = FakeClock(datetime(2026, 3, 2, 9, 0, tzinfo=UTC))
    app = await build_app(settings, clock=clock)
    for i in range(TICKETS):
        who = Identity("console", f"c{i}", f"customer {i}")
        await app.gateway.receive(
            InboundMessage("console", f"m{i}", who, ConversationRef("console", f"c{i}"), "help")
        )
    clock.advance(timedelta(minutes=30))
    return app, clock


async def fired(app: App) -> tuple[Counter[tuple[int, str]], Counter[int]]:
    async with app.engine.connect() as conn:
        history = (await conn.execute(select(t.history.c.ticket_id, t.history.c.kind))).all()
        cards = (
            await conn.execute(select(t.outbox.c.ticket_id).where(t.outbox.c.kind == "card"))
        ).all()
    return Counter((r.ticket_id, r.kind) for r in history), Counter(r.ticket_id for r in cards)


async def test_one_batch_fires_every_due_ticket_and_edits_each_card(
    db_url: str, tmp_path: Path
) -> None:
    app, _ = await opened_app(db_url, tmp_path)
    try:
        _, cards_before = await fired(app)
        assert await app.scheduler.sweep() == 2 * TICKETS  # warning and breach each
        assert await app.scheduler.sweep() == 0
        history, cards = await fired(app)
    finally:
        await app.stop()
    for tid in range(1, TICKETS + 1):
        assert history[(tid, "sla_warned")] == 1 and history[(tid, "sla_breached")] == 1
        assert cards[tid] == cards_before[tid] + 1  # one card edit per ticket per batch


async def tickets_and_alarms(app: App) -> tuple[list[Any], Counter[int]]:
    """Every ticket row as stored, and the pending SLA alarm rows per ticket."""
    async with app.engine.connect() as conn:
        rows = (await conn.execute(select(t.tickets).order_by(t.tickets.c.id))).all()
        pending = (await conn.execute(select(t.sla_alarms.c.ticket_id))).scalars().all()
    return [tuple(r) for r in rows], Counter(pending)


async def test_firing_alarms_takes_their_rows_and_rewrites_no_ticket(
    db_url: str, tmp_path: Path
) -> None:
    """An SLA alarm lives as a row keyed by its time (migration 0013): firing deletes the row
    and writes history and notices; the ticket row, its version included, stays as it was."""
    app, _ = await opened_app(db_url, tmp_path)
    try:
        tickets, pending = await tickets_and_alarms(app)
        assert pending == {tid: 2 for tid in range(1, TICKETS + 1)}  # warning, breach
        assert await app.scheduler.sweep() == 2 * TICKETS
        after, left = await tickets_and_alarms(app)
    finally:
        await app.stop()
    assert after == tickets
    assert not left


async def test_failed_batch_falls_back_to_smaller_transactions(db_url: str, tmp_path: Path) -> None:
    app, _ = await opened_app(db_url, tmp_path)
    batches: list[int] = []

    async def broken(cmd: c.FireDueTimers, uow: Any, core: Any) -> int:
        batches.append(len(cmd.ticket_ids))
        raise RuntimeError("a bad ticket in the batch")

    app.bus.handlers[c.FireDueTimers] = broken
    try:
        assert await app.scheduler.sweep() == 2 * TICKETS
        history, _ = await fired(app)
    finally:
        await app.stop()
    assert batches == [TICKETS]
    for tid in range(1, TICKETS + 1):
        assert history[(tid, "sla_warned")] == 1 and history[(tid, "sla_breached")] == 1


async def test_a_finished_unit_of_work_leaves_no_garbage_cycles(
    db_url: str, tmp_path: Path
) -> None:
    """Tickets a unit loaded are freed when it ends, not left for the cyclic collector: a
    sweep loads hundreds, and cycles kept them (and their unit) alive into the collector's
    older generations, whose passes then stalled the event loop."""
    app, _ = await opened_app(db_url, tmp_path)
    gc.collect()
    gc.disable()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        assert await app.scheduler.sweep() == 2 * TICKETS
        async with app.uow() as uow:
            await uow.tickets.get(1)
        gc.collect()
        left = [type(o).__name__ for o in gc.garbage]
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        gc.enable()
        await app.stop()
    assert "Ticket" not in left and "TicketRepository" not in left, Counter(left)


async def test_batches_stop_when_one_held_everything_due(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The due query reads one row past a batch: a sweep asks again only while more is due."""
    # 12 tickets with a warning and a breach each: 24 due timers, batches of 10 rows
    monkeypatch.setattr(timers_repo, "DUE_LIMIT", 10)
    monkeypatch.setattr(timers_repo, "_DUE", timers_repo._due_statement(11))
    queries: list[int] = []
    real = timers_repo.due_ticket_ids

    async def counted(conn: Any, now: datetime) -> tuple[list[int], bool]:
        found = await real(conn, now)
        queries.append(len(found[0]))
        return found

    monkeypatch.setattr(timers_repo, "due_ticket_ids", counted)
    app, _ = await opened_app(db_url, tmp_path)
    try:
        assert await app.scheduler.sweep() == 2 * TICKETS
        history, _ = await fired(app)
        asked = list(queries)
        queries.clear()
        assert await app.scheduler.sweep() == 0
    finally:
        await app.stop()
    # The first 10 rows are ten tickets' warnings (more was due); firing those tickets took
    # their breaches too. The second query read the 4 rows left, two tickets, and nothing
    # past them: no third query.
    assert asked == [10, 2]
    assert queries == [0]  # nothing due: one query
    for tid in range(1, TICKETS + 1):
        assert history[(tid, "sla_warned")] == 1 and history[(tid, "sla_breached")] == 1
