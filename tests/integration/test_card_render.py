"""Triage cards are drawn when they are sent, from the ticket as it is then; queued edits of
one card collapse into the one being sent (SQLite and PostgreSQL)."""

from __future__ import annotations

from sqlalchemy import select

from storage import tables as t
from tests.integration.test_core import RecordingAdapter, cmd, make_app, msg


async def _card_rows(app: object) -> list[tuple[int, str, dict[str, object]]]:
    async with app.engine.connect() as conn:  # type: ignore[attr-defined]
        rows = await conn.execute(
            select(t.outbox.c.ticket_id, t.outbox.c.status, t.outbox.c.payload)
            .where(t.outbox.c.kind == "card")
            .order_by(t.outbox.c.id)
        )
        return [(r.ticket_id, r.status, r.payload) for r in rows]


async def test_queued_card_edits_go_out_once_showing_the_latest_state(db_url: str) -> None:
    adapter = RecordingAdapter()
    app = await make_app(db_url, adapter)
    try:
        await app.gateway.receive(msg("alice", "printer on fire", "m-1"))
        await app.gateway.execute(cmd("bob", "/priority urgent", "T-1"))
        await app.gateway.receive(msg("dave", "scanner jammed", "m-2"))
        await app.gateway.execute(cmd("bob", "/claim", "T-1"))
        queued = await _card_rows(app)
        assert len(queued) >= 4 and {s for _, s, _ in queued} == {"queued"}
        # the rows only name the card: nothing was rendered when the ticket changed
        assert all("status" not in p and p["ref"] == f"T-{tid}" for tid, _, p in queued)

        await app.dispatcher.drain()
        cards = [m for m in adapter.sent if m.kind == "card"]
        assert [m.ticket for m in cards] == ["T-1", "T-2"]  # one edit for T-1's three changes
        assert cards[0].payload["priority"] == "urgent" and cards[0].payload["assignee"] == "bob"
        assert "priority urgent" in cards[0].text and "assignee bob" in cards[0].text
        assert "scanner jammed" in cards[1].text and "assignee —" in cards[1].text
        assert [(tid, s) for tid, s, _ in await _card_rows(app)] == [(1, "sent"), (2, "sent")]

        await app.gateway.execute(cmd("bob", "/priority low", "T-1"))
        await app.dispatcher.drain()
        cards = [m for m in adapter.sent if m.kind == "card" and m.ticket == "T-1"]
        assert len(cards) == 2 and "priority low" in cards[-1].text
        assert cards[-1].previous_external_id == f"x{cards[0].id}"  # edited in place
    finally:
        await app.stop()


async def test_a_failed_delivery_of_a_new_ticket_shows_on_its_card(db_url: str) -> None:
    from bot.messages import DeliveryError

    adapter = RecordingAdapter()
    app = await make_app(db_url, adapter, outbox_max_attempts=1)
    try:
        await app.gateway.receive(msg("alice", "printer", "m-1"))
        # the ack fails for good while the ticket is still at its first version
        adapter.fail = [DeliveryError("channel_not_found", permanent=True)]
        await app.dispatcher.drain()
        cards = [m for m in adapter.sent if m.kind == "card"]
        assert cards[-1].payload["failed_deliveries"] == 1
        assert "⚠ 1 failed deliveries" in cards[-1].text
    finally:
        await app.stop()


async def test_a_card_that_cannot_be_drawn_does_not_hold_up_the_others(
    db_url: str, monkeypatch: object
) -> None:
    from bot.services import card_render

    real = card_render.card_fields

    def fields(ticket: object, *args: object) -> object:
        if getattr(ticket, "ref", None) == "T-1":
            raise ValueError("broken card")
        return real(ticket, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(card_render, "card_fields", fields)  # type: ignore[attr-defined]
    adapter = RecordingAdapter()
    app = await make_app(db_url, adapter)
    try:
        await app.gateway.receive(msg("alice", "printer on fire", "m-1"))
        await app.gateway.receive(msg("dave", "scanner jammed", "m-2"))
        await app.dispatcher.drain()
        cards = {m.ticket: m for m in adapter.sent if m.kind == "card"}
        assert cards["T-1"].text == "T-1"  # sent as written: the ref, not lost
        assert "scanner jammed" in cards["T-2"].text  # drawn as usual
        assert {s for _, s, _ in await _card_rows(app)} == {"sent"}
        assert [m.kind for m in adapter.sent].count("ack") == 2
    finally:
        await app.stop()
