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
from bot.services.notify import notify_events
from bot.services.unit_of_work import UnitOfWork

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
    # routing / auto-assignment (issue 7) goes here
    # SLA due times (issue 6) go here
    notify_events,
]


async def handle_events(events: list[Event], uow: UnitOfWork, core: Core) -> None:
    for stage in STAGES:
        await stage(events, uow, core)
