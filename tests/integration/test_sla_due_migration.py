"""Migration 0011 fills `sla_due_at` for the tickets written before it, as the SLA clock would."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from alembic import command
from sqlalchemy import select

from storage import tables as t
from storage.engine import create_engine
from storage.migrate import alembic_config

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
H = timedelta(hours=1)


def _upgrade(sync_conn: Any, revision: str) -> None:
    cfg = alembic_config()
    cfg.attributes["connection"] = sync_conn
    command.upgrade(cfg, revision)


async def test_the_migration_fills_the_earliest_due_time_of_running_tickets(db_url: str) -> None:
    engine = create_engine(db_url)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(_upgrade, "0010")
            await conn.execute(t.customers.insert().values(id=1, name="c", created_at=NOW))
            # (status, paused_at, first response due, next response due, resolution due)
            tickets = {
                1: ("open", None, NOW + 2 * H, None, NOW + 9 * H),
                2: ("new", None, None, NOW + 3 * H, NOW + H),  # resolution comes first
                3: ("open", None, NOW - H, NOW + H, None),  # breached: still the earliest
                4: ("pending", None, NOW + H, None, None),  # clock paused by the status
                5: ("open", NOW, NOW + H, None, None),  # paused (on its way to pending)
                6: ("resolved", None, None, None, None),
                7: ("open", None, None, None, None),  # no SLA policy
            }
            for tid, (status, paused, frd, nrd, resd) in tickets.items():
                # the table as the code declares it, without the column 0011 adds
                await conn.execute(
                    t.tickets.insert().values(
                        id=tid, subject="s", status=status, priority="normal", queue="general",
                        customer_id=1, tags=[], origin="console", conversation_key=f"c{tid}",
                        created_at=NOW, updated_at=NOW, paused_at=paused, first_response_due=frd,
                        next_response_due=nrd, resolution_due=resd, version=1,
                    )
                )  # fmt: skip
            await conn.run_sync(_upgrade, "head")
            rows = await conn.execute(select(t.tickets.c.id, t.tickets.c.sla_due_at))
            got = dict(rows.tuples().all())
        assert got == {
            1: NOW + 2 * H,
            2: NOW + H,
            3: NOW - H,
            4: None,
            5: None,
            6: None,
            7: None,
        }
    finally:
        await engine.dispose()
