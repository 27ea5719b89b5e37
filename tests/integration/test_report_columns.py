"""What the ticket write path keeps for reports (migration 0008), on SQLite and PostgreSQL:
wall-clock seconds to the first response and to the resolution, and a ticket_tags row per tag.

The report reads these instead of the timestamps and the JSON tags, so they must follow every
change: answered, tagged and untagged, resolved, reopened and resolved again.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from bot.bootstrap import App
from bot.services.ports import FakeClock
from storage import tables as t
from storage.rows import wall_seconds
from tests.integration.test_core import cmd, make_app, msg


async def _row(app: App, ticket_id: int) -> Any:
    async with app.engine.connect() as conn:
        return (await conn.execute(select(t.tickets).where(t.tickets.c.id == ticket_id))).one()


async def _tags(app: App) -> set[tuple[int, str]]:
    async with app.engine.connect() as conn:
        rows = await conn.execute(select(t.ticket_tags.c.ticket_id, t.ticket_tags.c.tag))
        return {(r[0], r[1]) for r in rows}


async def test_durations_and_tags_follow_the_ticket(db_url: str) -> None:
    app = await make_app(db_url)
    clock = app.core.clock
    assert isinstance(clock, FakeClock)
    clock.advance(timedelta(microseconds=900_000))  # created at …:00.9: truncated to :00
    try:
        first = await app.gateway.receive(msg("alice", "printer on fire", "m-1"))
        second = await app.gateway.receive(msg("carl", "no ink", "m-2"))
        row = await _row(app, first.ticket_id)
        assert row.first_response_wall_secs is None and row.resolution_wall_secs is None

        clock.advance(timedelta(seconds=90, microseconds=200_000))  # answered at +90.2 s
        assert (await app.gateway.execute(cmd("bob", f"reply {first.ref} on it"))).ok
        assert (await _row(app, first.ticket_id)).first_response_wall_secs == 91  # :00 → 1:31

        assert (await app.gateway.execute(cmd("bob", f"tag add {first.ref} hardware"))).ok
        assert (await app.gateway.execute(cmd("bob", f"tag add {first.ref} čšž"))).ok
        assert (await app.gateway.execute(cmd("bob", f"tag add {second.ref} hardware"))).ok
        assert await _tags(app) == {
            (first.ticket_id, "hardware"), (first.ticket_id, "čšž"), (second.ticket_id, "hardware"),
        }  # fmt: skip
        assert (await app.gateway.execute(cmd("bob", f"tag remove {first.ref} hardware"))).ok
        assert await _tags(app) == {(first.ticket_id, "čšž"), (second.ticket_id, "hardware")}

        clock.advance(timedelta(hours=2))
        assert (await app.gateway.execute(cmd("bob", f"resolve {first.ref}"))).ok
        resolved = await _row(app, first.ticket_id)
        assert resolved.resolution_wall_secs == 91 + 7200
        assert (await app.gateway.execute(cmd("bob", f"reopen {first.ref}"))).ok
        reopened = await _row(app, first.ticket_id)
        assert reopened.resolved_at is None and reopened.resolution_wall_secs is None
        assert reopened.first_response_wall_secs == 91  # the first response stays

        clock.advance(timedelta(days=1))
        assert (await app.gateway.execute(cmd("bob", f"resolve {first.ref}"))).ok
        again = await _row(app, first.ticket_id)
        assert again.resolution_wall_secs == 91 + 7200 + 86400
        created = _aware(again.created_at)
        assert again.resolution_wall_secs == wall_seconds(_aware(again.resolved_at), created)
    finally:
        await app.stop()


async def test_new_tickets_write_their_tags(db_url: str) -> None:
    """A ticket inserted with a tag already set (here the attention tag of ingest)."""
    app = await make_app(db_url)
    try:
        ticket = await app.gateway.receive(msg("alice", "?", "m-1", attention="unparseable"))
        assert await _tags(app) == {(ticket.ticket_id, "unparseable")}
    finally:
        await app.stop()


def test_wall_seconds_truncate_each_instant_to_the_second() -> None:
    created = datetime(2026, 3, 1, 10, 0, 0, 999_999, tzinfo=UTC)
    assert wall_seconds(None, created) is None
    assert wall_seconds(created + timedelta(microseconds=1), created) == 1  # :00.999 → :01.0
    assert wall_seconds(created + timedelta(days=2, seconds=5), created) == 2 * 86400 + 5
    assert wall_seconds(created - timedelta(seconds=3), created) == -3  # clock skew: as is


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)
