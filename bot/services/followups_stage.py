"""Pipeline stage after notifications: automatic replies and satisfaction surveys.

It runs after `notify_events` so that what it sends follows the ack or the status notice in
the customer's conversation.
"""

from __future__ import annotations

from bot.domain import events as ev
from bot.domain.automation_events import AutoReplied
from bot.domain.status import Visibility
from bot.services import assignment, csat
from bot.services.assignment import ACTIVE_VALUES
from bot.services.context import Core
from bot.services.deliveries import Deliveries
from bot.services.unit_of_work import UnitOfWork


async def followups_stage(events: list[ev.Event], uow: UnitOfWork, core: Core) -> None:
    for event in events:
        if isinstance(event, AutoReplied):
            ticket = await uow.tickets.get(event.ticket_id)
            if ticket is None:
                continue
            uow.messages.add(
                ticket_id=ticket.id, platform="core", external_id=None, author_kind="bot",
                author_id=None, author_name=event.actor, visibility=Visibility.PUBLIC.value,
                text=event.text, at=event.at, flags={"canned": event.canned, "automatic": "rule"},
            )  # fmt: skip
            await Deliveries(uow, core).to_customer(
                ticket, "reply", event.text, with_merged=False, payload={"agent_name": event.actor}
            )
        elif isinstance(event, ev.StatusChanged) and event.new in ("resolved", "closed"):
            ticket = await uow.tickets.get(event.ticket_id)
            if ticket is None:
                continue
            await csat.send_survey(ticket, event.reason, uow, core)
            if event.old in ACTIVE_VALUES and ticket.assignee_id is not None:
                # the assignee has room for one more: a waiting ticket may go to them
                agent = await uow.agents.get(ticket.assignee_id)
                await assignment.assign_waiting(uow, core, agent.queues if agent else [])
