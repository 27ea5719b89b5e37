"""Read-only questions the adapter asks the core (one read unit each, nothing is written).

They never decide a ticket rule themselves: the reopen question replays the core's own rule
(`Ticket.customer_wrote`) on a copy that is never saved.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bot.domain.model import CustomerMessageOutcome
from bot.domain.status import Status
from bot.services.unit_of_work import UnitOfWork

if TYPE_CHECKING:
    from bot.gateway import Gateway


async def message_seen(gateway: Gateway, platform: str, message_id: str) -> bool:
    """Whether this platform message is already recorded (redelivery after a restart)."""

    async def run(uow: UnitOfWork) -> bool:
        return await uow.messages.seen(platform, message_id) is not None

    return bool(await gateway.bus.query(run))


async def needs_new_ticket(gateway: Gateway, conversation_key: str) -> bool:
    """Whether a customer message in this conversation would now open a new ticket (its
    ticket closed and the reopen window over): then its thread is locked."""
    core = gateway.core

    async def run(uow: UnitOfWork) -> bool:
        ticket = await uow.tickets.latest_for_conversation(conversation_key)
        if ticket is None or ticket.status != Status.CLOSED:
            return False
        outcome = ticket.customer_wrote(
            at=core.clock.now(), reopen_window=core.policy.reopen_window
        )  # on a copy in a unit that is rolled back: nothing changes
        return outcome == CustomerMessageOutcome.NEEDS_NEW_TICKET

    return bool(await gateway.bus.query(run))


async def transcript(gateway: Gateway, ref: str) -> tuple[str, str] | None:
    """(subject, text) of a ticket's whole record for the staff log: every message with its
    time and author, internal notes marked. None when the ticket is unknown."""
    core = gateway.core
    ticket_id = core.policy.refs.parse(ref)
    if ticket_id is None:
        return None

    async def run(uow: UnitOfWork) -> tuple[str, str] | None:
        ticket = await uow.tickets.get(ticket_id)
        if ticket is None:
            return None
        customer = await uow.customers.get(ticket.customer_id)
        sources = await uow.tickets.merged_sources(ticket.id)
        lines = [
            f"{ticket.ref} · {ticket.subject}",
            f"customer: {customer.name if customer else '?'} · opened "
            f"{ticket.created_at:%Y-%m-%d %H:%M} UTC · status {ticket.status.value}"
            f" · priority {ticket.priority.value} · queue {ticket.queue}",
            f"assignee: {ticket.assignee_name or '-'}",
            "",
        ]
        rows: list[Any] = await uow.messages.for_tickets(
            [ticket.id, *(s.id for s in sources)], include_internal=True
        )
        for m in rows:
            tag = {"internal": " [internal note]", "system": " [system]"}.get(m.visibility, "")
            lines.append(f"[{m.created_at:%Y-%m-%d %H:%M}] {m.author_name}{tag}: {m.text}")
            for a in m.attachments or []:
                lines.append(f"    attachment: {a.get('filename')} {a.get('url') or ''}".rstrip())
        return ticket.subject, "\n".join(lines) + "\n"

    result: tuple[str, str] | None = await gateway.bus.query(run)
    return result
