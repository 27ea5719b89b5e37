"""Several workers sweeping the same due tickets at once: every timed action happens once.

Two complete deskbot apps (two engines, two connection pools) share one database and one fake
clock. On PostgreSQL they really run in parallel and claim rows with FOR UPDATE SKIP LOCKED;
on SQLite BEGIN IMMEDIATE serialises them. Both sweep twice, concurrently.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select

from bot.bootstrap import App, build_app
from bot.config import Settings
from bot.domain.model import Role
from bot.messages import CommandInvocation, ConversationRef, Identity, InboundMessage
from bot.services.ports import FakeClock
from storage import tables as t

CONFIG = """
[[sla.policies]]
name = "tight"
first_response = "10m"
resolution = "30m"
escalate = [
  { after = "0m", action = "notify_leads" },
  { after = "5m", action = "raise_priority" },
]

[[queues]]
name = "general"
settings = { remind_after = "1h", auto_resolve_after = "90m", auto_close_after = "1d" }
"""
TICKETS = 90
BOB = Identity("console", "bob", "bob")


async def open_tickets(app: App) -> None:
    async def one(i: int) -> None:
        who = Identity("console", f"c{i}", f"customer {i}")
        await app.gateway.receive(
            InboundMessage("console", f"m{i}", who, ConversationRef("console", f"c{i}"), "help")
        )

    await asyncio.gather(*(one(i) for i in range(TICKETS)))
    for tid in range(1, TICKETS + 1):
        if tid % 3 == 1:  # claimed: the claim times out after 20 minutes
            line = "claim"
        elif tid % 3 == 2:  # pending: reminder after 1h, resolved after 90m
            line = "status pending"
        else:
            continue
        inv = CommandInvocation("console", BOB, line, context_ref=f"T-{tid}")
        reply = await app.gateway.execute(inv)
        assert reply.ok, reply.text


async def test_two_workers_fire_every_timer_exactly_once(db_url: str, tmp_path: Path) -> None:
    path = tmp_path / "deskbot.toml"
    path.write_text(CONFIG, encoding="utf-8")
    settings = Settings(  # type: ignore[call-arg]
        database_url=db_url, _env_file=None, config=path, claim_timeout="20m"
    )
    clock = FakeClock(datetime(2026, 3, 2, 9, 0, tzinfo=UTC))
    one = await build_app(settings, clock=clock)
    two = await build_app(settings, clock=clock)
    try:
        await one.seed_agent("bob", Role.AGENT, ["console:bob"])
        await one.seed_agent("lee", Role.LEAD, ["console:lee"])
        await open_tickets(one)
        clock.advance(timedelta(hours=2))
        fired = await asyncio.gather(
            one.scheduler.sweep(),
            two.scheduler.sweep(),
            one.scheduler.sweep(),
            two.scheduler.sweep(),
        )
        async with one.engine.connect() as conn:
            rows = (
                await conn.execute(
                    select(
                        t.history.c.ticket_id, t.history.c.kind, t.history.c.new, t.history.c.old
                    )
                )
            ).all()
            sla_rows = (
                await conn.execute(
                    select(
                        t.outbox.c.ticket_id, t.outbox.c.conversation_key, t.outbox.c.text
                    ).where(t.outbox.c.kind == "sla")
                )
            ).all()
            open_timers = (
                await conn.execute(
                    select(func.count()).where(t.tickets.c.claim_expires_at.is_not(None))
                )
            ).scalar_one()
            open_timers += (
                await conn.execute(select(func.count()).select_from(t.sla_alarms))
            ).scalar_one()
    finally:
        await one.stop()
        await two.stop()

    per = Counter((r.ticket_id, r.kind, r.new, r.old) for r in rows)
    expected_total = 0
    for tid in range(1, TICKETS + 1):
        if tid % 3 == 2:
            assert per[(tid, "reminded", None, None)] == 1
            assert per[(tid, "status", "resolved", "pending")] == 1
            assert per[(tid, "sla_breached", "first_response", None)] == 0  # paused
            expected_total += 2
            continue
        for target in ("first_response", "resolution"):
            assert per[(tid, "sla_warned", target, None)] == 1, (tid, target)
            assert per[(tid, "sla_breached", target, None)] == 1, (tid, target)
        assert per[(tid, "sla_escalated", "notify_leads", None)] == 2  # once per target
        assert per[(tid, "sla_escalated", "raise_priority", None)] == 2
        expected_total += 8
        if tid % 3 == 1:
            assert per[(tid, "assigned", None, "bob")] == 1  # the claim timed out once
            expected_total += 1
    assert sum(fired) == expected_total
    # no notice was written twice either
    assert max(Counter(tuple(r) for r in sla_rows).values()) == 1
    assert open_timers == 0
