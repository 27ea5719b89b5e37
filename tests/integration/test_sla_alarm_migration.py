"""Migration 0013 turns each live SLA alarm into a pending row, and its downgrade marks every
alarm without a row fired again, as the old schema did."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from alembic import command
from sqlalchemy import select

from storage import tables as t
from storage.engine import create_engine
from storage.migrate import alembic_config

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
H = timedelta(hours=1)
OLD = sa.table("tickets", sa.column("id"), sa.column("sla_next_at", t.TS))


def _to(sync_conn: Any, revision: str, down: bool = False) -> None:
    cfg = alembic_config()
    cfg.attributes["connection"] = sync_conn
    (command.downgrade if down else command.upgrade)(cfg, revision)


def _iso(at: datetime | None) -> str | None:
    return None if at is None else at.isoformat()


async def test_live_alarms_become_rows_and_come_back_on_downgrade(db_url: str) -> None:
    # (status, paused_at, sla_next_at as the old scheduler kept it, alarms; None = fired)
    tickets = {
        1: ("open", None, NOW + H, {"first_response:warn": None, "first_response:breach": NOW + H}),
        2: ("new", None, NOW - H, {"resolution:breach": NOW - H, "resolution:esc:0": NOW + 2 * H}),
        3: ("pending", NOW, None, {"first_response:breach": NOW + 3 * H}),  # paused: not live
        4: ("resolved", None, None, {"resolution:breach": None}),
    }
    engine = create_engine(db_url)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(_to, "0012")
            await conn.execute(t.customers.insert().values(id=1, name="c", created_at=NOW))
            for tid, (status, paused, nxt, alarms) in tickets.items():
                await conn.execute(
                    t.tickets.insert().values(
                        id=tid, subject="s", status=status, priority="normal", queue="general",
                        customer_id=1, tags=[], origin="console", conversation_key=f"c{tid}",
                        created_at=NOW, updated_at=NOW, paused_at=paused, version=1,
                        sla_timers={k: _iso(v) for k, v in alarms.items()},
                    )
                )  # fmt: skip
                await conn.execute(OLD.update().where(OLD.c.id == tid).values(sla_next_at=nxt))
            await conn.run_sync(_to, "0013")
            a = t.sla_alarms.c
            rows = set((await conn.execute(select(a.at, a.ticket_id, a.alarm))).tuples().all())
            assert rows == {
                (NOW + H, 1, "first_response:breach"),
                (NOW - H, 2, "resolution:breach"),
                (NOW + 2 * H, 2, "resolution:esc:0"),
            }
            # the breach of ticket 2 fired meanwhile (its row taken), then back to 0012
            await conn.execute(t.sla_alarms.delete().where(a.ticket_id == 2, a.at == NOW - H))
            await conn.run_sync(_to, "0012", True)
            old = sa.table("tickets", sa.column("id"), sa.column("sla_next_at", t.TS),
                           sa.column("sla_timers", sa.JSON))  # fmt: skip
            got = {
                r.id: (r.sla_next_at, r.sla_timers)
                for r in await conn.execute(select(old).order_by(old.c.id))
            }
            assert got[1] == (
                NOW + H,
                {"first_response:warn": None, "first_response:breach": _iso(NOW + H)},
            )
            assert got[2] == (
                NOW + 2 * H,
                {"resolution:breach": None, "resolution:esc:0": _iso(NOW + 2 * H)},
            )
            # paused before its alarm: it has not fired (resuming moves it), but nothing is live
            assert got[3] == (None, {"first_response:breach": _iso(NOW + 3 * H)})
            assert got[4] == (None, {"resolution:breach": None})
            await conn.run_sync(_to, "head")
    finally:
        await engine.dispose()
