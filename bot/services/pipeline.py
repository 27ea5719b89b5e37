"""The ordered event pipeline run inside each unit of work (DESIGN.md, "Flow of a message").

Each stage receives the events a command produced and only writes: history rows, routing
decisions, due-time columns, outbox rows. Stages run in this order so that, for a new ticket,
routing picks queue and assignee before SLA due times are computed, and both happen before
the acknowledgement and card are written.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from bot.domain.events import Event
from bot.services.context import Core
from bot.services.followups_stage import followups_stage
from bot.services.notify import notify_events
from bot.services.routing_stage import routing_stage
from bot.services.sla_stage import sla_stage
from bot.services.status_marks import mark_status
from bot.services.unit_of_work import UnitOfWork
from bot.services.webhooks import webhooks_stage

Stage = Callable[[list[Event], UnitOfWork, Core], Awaitable[None]]


async def record_history(events: list[Event], uow: UnitOfWork, core: Core) -> None:
    """Every event becomes one append-only audit row."""
    for event in events:
        old, new, data = event.history()
        uow.history.add(
            ticket_id=event.ticket_id,
            at=event.at,
            actor=event.actor,
            kind=event.kind,
            old=old,
            new=new,
            data=data or None,
        )


STAGES: list[Stage] = [
    record_history,
    routing_stage,  # routing rules, auto-assignment, articles offered (issue 7)
    sla_stage,  # SLA due times and automation timers (issue 6)
    notify_events,
    followups_stage,  # automatic replies and CSAT surveys, after the ack/notice (issue 7)
    mark_status,  # status marks on the customer's side (Slack reactions), after notifications
    webhooks_stage,  # outbound lifecycle webhooks, last: they see every change (issue 7)
]


async def handle_events(events: list[Event], uow: UnitOfWork, core: Core) -> None:
    for stage in STAGES:
        await stage(events, uow, core)
