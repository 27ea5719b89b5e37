"""Notifications: events that someone must hear about become outbox rows.

They run inside the same unit of work as the change and only write (rule 2 of DESIGN.md).
"""

from __future__ import annotations

from bot.domain import events as ev
from bot.domain.model import Ticket
from bot.services.cards import card_fields, card_text
from bot.services.context import Core
from bot.services.deliveries import Deliveries
from bot.services.unit_of_work import UnitOfWork

CUSTOMER_STATUS_NOTICES = {
    "resolved": "We've marked {ref} as resolved. If you still need help, just reply here.",
    "closed": "{ref} is now closed. Thanks for getting in touch!",
}


async def notify_events(events: list[ev.Event], uow: UnitOfWork, core: Core) -> None:
    """Write outbound rows for `events`; at most one card edit per ticket per unit."""
    out = Deliveries(uow, core)
    card_tickets: dict[int, Ticket] = {}
    for event in events:
        ticket = await uow.tickets.get(event.ticket_id)
        if ticket is None:
            continue
        await _notify(event, ticket, out, uow, core)
        if event.updates_card:
            card_tickets[ticket.id] = ticket
    for ticket in card_tickets.values():
        await post_card(ticket, out, uow)


async def post_card(ticket: Ticket, out: Deliveries, uow: UnitOfWork) -> None:
    customer = await uow.customers.get(ticket.customer_id)
    failed = len(await uow.outbox.for_ticket(ticket.id)) if ticket.version > 1 else 0
    fields = card_fields(ticket, customer.name if customer else "?", failed)
    out.to_agents(ticket, "card", card_text(fields), edit_key=f"card:{ticket.id}", payload=fields)


async def _notify(
    event: ev.Event, ticket: Ticket, out: Deliveries, uow: UnitOfWork, core: Core
) -> None:
    if isinstance(event, ev.TicketOpened):
        customer = await uow.customers.get(ticket.customer_id)
        name = customer.name if customer else "there"
        text = (
            f"Thanks {name}, we've opened ticket {ticket.ref}: \u201c{ticket.subject}\u201d. "
            f"We usually reply within {core.policy.first_response_text}."
        )
        await out.to_customer(ticket, "ack", text, with_merged=False)
    elif isinstance(event, ev.CustomerMessageAdded):
        if event.relay_to_agents:
            out.to_agents(ticket, "message", f"{event.actor} wrote on {ticket.ref}: {event.text}")
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
            payload={"agent_name": name},
        )
    elif isinstance(event, ev.NoteAdded):
        if event.echo:
            out.to_agents(
                ticket, "note", f"{event.actor} (internal note on {ticket.ref}): {event.text}"
            )
    elif isinstance(event, ev.StatusChanged):
        notice = CUSTOMER_STATUS_NOTICES.get(event.new or "")
        if notice and event.actor != "customer":
            await out.to_customer(ticket, "system", notice.format(ref=ticket.ref))
    elif isinstance(event, ev.TicketAssigned):
        if event.new and event.new != event.actor and ticket.assignee_id is not None:
            await out.to_agent(
                ticket.assignee_id,
                ticket,
                "system",
                f"{event.actor} assigned {ticket.ref} to you: {ticket.subject}",
            )
    elif isinstance(event, ev.TicketMerged) and event.source_id == ticket.id:
        text = f"Your request {event.source_ref} is now handled together with {event.target_ref}."
        await out.to_customer(ticket, "system", text, with_merged=False)
    elif isinstance(event, ev.DeliveryFailed):
        out.to_agents(ticket, "system", f"Delivery failed on {ticket.ref}: {event.error}")
