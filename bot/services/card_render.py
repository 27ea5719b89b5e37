"""Triage cards drawn when they go out: an outbox row asks for "the card of ticket N" and the
dispatcher renders it from the ticket as it is then, so a sweep that changes hundreds of
tickets renders no card, and queued edits of one card collapse into the one being sent."""

from __future__ import annotations

import logging
from typing import Any

from bot.services.card_extras import card_data
from bot.services.cards import card_fields, card_text
from bot.services.context import Core
from bot.services.unit_of_work import UnitOfWork

KIND = "card"
log = logging.getLogger(__name__)


def is_card(row: Any) -> bool:
    return bool(row.kind == KIND and row.ticket_id is not None and row.edit_key)


async def render_cards(rows: list[Any], uow: UnitOfWork, core: Core) -> dict[int, tuple[str, Any]]:
    """Text and payload of each card row among ``rows`` (leased by this unit), by row id.

    Newer queued edits of the same card are dropped first: the card drawn now shows
    everything they would have shown (they were committed before this read)."""
    cards = [row for row in rows if is_card(row)]
    if not cards:
        return {}
    await uow.outbox.drop_newer_edits(cards)
    tickets = {t.id: t for t in await uow.tickets.get_many([r.ticket_id for r in cards])}
    data = await card_data(list(tickets.values()), uow, core)
    out: dict[int, tuple[str, Any]] = {}
    now = core.clock.now()
    for row in cards:
        ticket = tickets.get(row.ticket_id)
        if ticket is None:
            continue  # not a ticket of ours any more: send the row as written
        try:
            name, failed = data.customer_name(ticket), data.failed.get(ticket.id, 0)
            fields = card_fields(ticket, name, now, failed)
            fields.update(data.extras(ticket))
            out[row.id] = (card_text(fields), {**(row.payload or {}), **fields})
        except Exception:  # one card that cannot be drawn must not hold up the batch's rows
            log.exception("card of %s could not be drawn; sending its row as written", ticket.ref)
    return out
