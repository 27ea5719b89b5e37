"""Pipeline stage: a status change or claim updates the status mark on the customer's side."""

from __future__ import annotations

from bot.domain import events as ev
from bot.services.context import Core
from bot.services.deliveries import Deliveries
from bot.services.unit_of_work import UnitOfWork

# TicketOpened too: Discord posts a ticket's status message when it opens (issue 4).
_MARKED = (ev.TicketOpened, ev.StatusChanged, ev.TicketClaimed, ev.TicketAssigned)


async def mark_status(events: list[ev.Event], uow: UnitOfWork, core: Core) -> None:
    """One status row per changed ticket per unit of work, with its final state."""
    if not core.policy.status_platforms:
        return
    changed = list(dict.fromkeys(e.ticket_id for e in events if isinstance(e, _MARKED)))
    out = Deliveries(uow, core)
    for ticket_id in changed:
        ticket = await uow.tickets.get(ticket_id)
        if ticket is not None:
            out.status_mark(ticket)
