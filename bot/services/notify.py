"""Notifications: events that someone must hear about become outbox rows.

They run inside the same unit of work as the change and only write (rule 2 of DESIGN.md).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from bot import i18n
from bot.domain import events as ev
from bot.domain.model import Ticket
from bot.services import customer_texts
from bot.services.context import Core
from bot.services.deliveries import Deliveries
from bot.services.unit_of_work import UnitOfWork

# Status changes the customer is told about: the template key in bot/i18n catalogs.
CUSTOMER_STATUS_NOTICES = {"resolved": "status_resolved", "closed": "status_closed"}


async def notify_events(events: list[ev.Event], uow: UnitOfWork, core: Core) -> None:
    """Write outbound rows for `events`; at most one card edit per ticket per unit."""
    out = Deliveries(uow, core)
    card_tickets: dict[int, Ticket] = {}
    # A new ticket whose first message is relayed to agents (a DM) gets its card written
    # first, so the relayed message is delivered after it and can be threaded under it.
    relayed = {
        e.ticket_id for e in events if isinstance(e, ev.CustomerMessageAdded) and e.relay_to_agents
    }
    opened = [
        tid
        for tid in dict.fromkeys(e.ticket_id for e in events if isinstance(e, ev.TicketOpened))
        if tid in relayed
    ]
    for ticket_id in opened:
        new_ticket = await uow.tickets.get(ticket_id)
        if new_ticket is not None:
            post_cards([new_ticket], out)
    for event in events:
        ticket = await uow.tickets.get(event.ticket_id)
        if ticket is None:
            continue
        await _notify(event, ticket, out, uow, core)
        if event.updates_card and ticket.id not in opened:
            card_tickets[ticket.id] = ticket
    post_cards(list(card_tickets.values()), out)


def post_cards(tickets: list[Ticket], out: Deliveries) -> None:
    """Ask for the cards of ``tickets`` to be redrawn. The row names the card only: the
    dispatcher renders it from the ticket when it sends it (bot/services/card_render.py)."""
    for ticket in tickets:
        out.to_agents(ticket, "card", ticket.ref, edit_key=f"card:{ticket.id}")


async def _notify(
    event: ev.Event, ticket: Ticket, out: Deliveries, uow: UnitOfWork, core: Core
) -> None:
    if isinstance(event, ev.TicketOpened):
        if not await _may_acknowledge(event, ticket, uow, core):
            return
        customer = await uow.customers.get(ticket.customer_id)
        articles = await uow.kb.suggestions(ticket.id)
        text, payload = customer_texts.ack(ticket, customer, core, articles)
        await out.to_customer(ticket, "ack", text, with_merged=False, payload=payload)
    elif isinstance(event, ev.CustomerMessageAdded):
        if event.relay_to_agents:
            out.to_agents(
                ticket,
                "message",
                f"{event.actor} wrote on {ticket.ref}: {event.text}",
                payload=_files(event.attachments) or None,
            )
        if ticket.assignee_id is not None:
            await out.to_agent(
                ticket.assignee_id,
                ticket,
                "system",
                f"{event.actor} wrote on {ticket.ref}: {event.text}",
            )
    elif isinstance(event, ev.AgentReplied):
        name = core.policy.team_alias or event.actor
        await out.to_customer(
            ticket,
            "reply",
            event.text,
            exclude=event.source_conversation,
            payload={"agent_name": name, **_files(event.attachments)},
        )
    elif isinstance(event, ev.NoteAdded):
        if event.echo:
            out.to_agents(
                ticket, "note", f"{event.actor} (internal note on {ticket.ref}): {event.text}"
            )
    elif isinstance(event, ev.StatusChanged):
        notice = event.customer_notice or CUSTOMER_STATUS_NOTICES.get(event.new or "")
        if notice and event.actor != "customer":
            lang = await customer_texts.ticket_language(ticket, uow, core)
            await out.to_customer(ticket, "system", i18n.text(notice, lang, ref=ticket.ref))
    elif isinstance(event, ev.TicketAssigned):
        if event.new and event.new != event.actor and ticket.assignee_id is not None:
            await out.to_agent(
                ticket.assignee_id,
                ticket,
                "system",
                f"{event.actor} assigned {ticket.ref} to you: {ticket.subject}",
            )
    elif isinstance(event, ev.TicketMerged) and event.source_id == ticket.id:
        lang = await customer_texts.ticket_language(ticket, uow, core)
        text = i18n.text("merged", lang, source=event.source_ref, target=event.target_ref)
        await out.to_customer(ticket, "system", text, with_merged=False)
    elif isinstance(event, ev.DeliveryFailed):
        out.to_agents(ticket, "system", f"Delivery failed on {ticket.ref}: {event.error}")
        await _show_failure_on_card(event, ticket, out, uow)


async def _show_failure_on_card(
    event: ev.DeliveryFailed, ticket: Ticket, out: Deliveries, uow: UnitOfWork
) -> None:
    """The card is redrawn with its count of failed deliveries, so the failure is visible on
    the ticket; not when the card itself failed (drawing it again would fail, and again)."""
    failed = await uow.outbox.for_ticket(ticket.id)
    if any(row.id == event.outbox_id and row.kind != "card" for row in failed):
        post_cards([ticket], out)  # drawn after this commit: the count includes this failure


async def _may_acknowledge(
    event: ev.TicketOpened, ticket: Ticket, uow: UnitOfWork, core: Core
) -> bool:
    """No ack for a message that asked for none, nor past the platform's daily cap."""
    if not event.acknowledge:
        return False
    cap = core.policy.ack_caps.get(ticket.origin)
    if cap is None:
        return True
    since = event.at - timedelta(days=1)
    return await uow.tickets.count_opened_since(ticket.customer_id, ticket.origin, since) <= cap


def _files(attachments: tuple[dict[str, Any], ...]) -> dict[str, Any]:
    """The delivery payload part that carries shared files ({filename, content_type, size, url})."""
    return {"attachments": list(attachments)} if attachments else {}
